package server

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parseCents reads a CSV amount (-12.34) back into cents, exactly, failing on any other
// shape.
func parseCents(t *testing.T, s string) int64 {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	units, frac, ok := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	u, err1 := strconv.ParseInt(units, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if !ok || len(frac) != 2 || err1 != nil || err2 != nil {
		t.Fatalf("amount %q is not a decimal with two places", s)
	}
	if neg {
		return -(u*100 + f)
	}
	return u*100 + f
}

// export reads a CSV report as the token, as a list of maps by column.
func (e *env) export(report, from, to, token string) []map[string]string {
	e.t.Helper()
	r := e.call("GET", fmt.Sprintf("/v1/exports/%s?from=%s&to=%s", report, from, to), token, nil)
	if r.status != 200 {
		e.t.Fatalf("export %s: %d %s", report, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		e.t.Fatalf("export %s: Content-Type %q", report, ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename="%s-%s-%s.csv"`, report, from, to) {
		e.t.Fatalf("export %s: Content-Disposition %q", report, cd)
	}
	if !strings.Contains(string(r.body), "\r\n") {
		e.t.Fatalf("export %s: lines not CRLF-terminated", report)
	}
	recs, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		e.t.Fatalf("export %s: not CSV: %v", report, err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

// TestTreasurerExportMatchesLedger: the CSV exports of a period add up to the ledger to
// the cent: every entry once, per account; the payments' breakdown per line adds up
// (gross = fee + co-op surge + worker, fee = funds + operating) and, with the refunds and
// the disbursements, gives each account's movement; a period with nothing is a header
// alone; free text cannot become a spreadsheet formula.
func TestTreasurerExportMatchesLedger(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	treasurer := e.member("Tess Treasurer", []string{"worker", "staff"}, "staff")
	work, _ := e.completedRide(c, 1999)
	e.feedHardship(w, "feed")
	tip := num(e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": work, "amountCents": 333}, "Idempotency-Key", "tip")["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/payments/%d/refund", tip), adminToken, nil)
	e.must(201, "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "hardship", "amountCents": 1234, "memberId": w.id, "reason": "repair"}, "Idempotency-Key", newKey())
	e.must(201, "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "reserve", "amountCents": 2001, "payee": "=HYPERLINK(\"x\")", "reason": "+1 laptop"}, "Idempotency-Key", newKey())

	today := time.Now().UTC()
	from, to := today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly)

	// The ledger: every entry once, its amount in both forms, each account's sum.
	lines := e.export("ledger", from, to, treasurer.token)
	if int64(len(lines)) != e.count("ledger_entries") {
		t.Fatalf("%d ledger lines for %d entries", len(lines), e.count("ledger_entries"))
	}
	perAccount := map[string]int64{}
	for _, l := range lines {
		c, err := strconv.ParseInt(l["amount_cents"], 10, 64)
		if err != nil || parseCents(t, l["amount"]) != c {
			t.Fatalf("line %v: amount and amount_cents differ", l)
		}
		perAccount[l["account"]] += c
	}
	for account, sum := range perAccount {
		if got := e.balance(account); got != sum {
			t.Errorf("account %s: CSV %d, ledger %d", account, sum, got)
		}
	}
	if len(perAccount) < 6 {
		t.Fatalf("accounts %v", perAccount)
	}

	// The payments: each line's breakdown adds up; the columns give the accounts'
	// movements from payments and refunds.
	pays := e.export("payments", from, to, adminToken)
	if len(pays) != 4 || pays[3]["kind"] != "refund" || parseCents(t, pays[3]["gross"]) != -333 {
		t.Fatalf("payment lines %v", pays)
	}
	col := map[string]int64{}
	for _, p := range pays {
		v := func(k string) int64 { return parseCents(t, p[k]) }
		if v("gross") != v("platform_fee")+v("coop_surge")+v("worker") || v("platform_fee") != v("fund_hardship")+v("fund_reserve")+v("operating") {
			t.Fatalf("line %v does not add up", p)
		}
		for _, k := range []string{"gross", "fund_hardship", "fund_reserve", "operating", "coop_surge", "worker"} {
			col[k] += v(k)
		}
	}
	dis := e.export("disbursements", from, to, adminToken)
	if len(dis) != 2 || parseCents(t, dis[0]["amount"]) != 1234 || dis[0]["member_id"] != fmt.Sprint(w.id) || dis[1]["fund"] != "reserve" {
		t.Fatalf("disbursement lines %v", dis)
	}
	if dis[1]["payee"] != `'=HYPERLINK("x")` || dis[1]["reason"] != "'+1 laptop" || dis[0]["reason"] != "repair" {
		t.Fatalf("free text not made safe: %v", dis[1])
	}
	out := map[string]int64{}
	for _, d := range dis {
		out[d["fund"]] += parseCents(t, d["amount"])
	}
	workers := e.balance(acctMember(w.id)) - 1234 // the hardship disbursement is not pay
	for _, c := range []struct {
		name      string
		csv, want int64
	}{
		{"gross", col["gross"], -e.balance(acctPayer)},
		{"fund_hardship", col["fund_hardship"] - out["hardship"], e.balance(acctFund("hardship"))},
		{"fund_reserve", col["fund_reserve"] - out["reserve"], e.balance(acctFund("reserve"))},
		{"operating", col["operating"], e.balance(acctOperating)},
		{"coop_surge", col["coop_surge"], e.balance(acctCoopSurge)},
		{"worker", col["worker"], workers},
	} {
		if c.csv != c.want {
			t.Errorf("%s: CSV %d, ledger %d", c.name, c.csv, c.want)
		}
	}

	// A period with nothing in it.
	for _, report := range []string{"ledger", "payments", "disbursements"} {
		if got := e.export(report, "2020-01-01", "2020-01-31", adminToken); len(got) != 0 {
			t.Errorf("%s of January 2020: %v", report, got)
		}
	}
}

// TestSecurity_TreasurerExportRights: staff (the admin token, or an active member with the
// staff role) read the exports; a worker, a customer, an anonymous caller and a
// deactivated staff member do not; a bad period names its field.
func TestSecurity_TreasurerExportRights(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	treasurer := e.member("Tess Treasurer", []string{"staff"}, "staff")
	path := "/v1/exports/ledger?from=2026-01-01&to=2026-12-31"
	for _, tok := range []string{w.token, c.token} {
		e.refused(403, "", "read by staff", "GET", path, tok, nil)
	}
	e.refused(401, "Authorization", "bearer token", "GET", path, "", nil)
	e.export("ledger", "2026-01-01", "2026-12-31", treasurer.token)
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", treasurer.id), adminToken, map[string]any{"active": false})
	e.refused(401, "Authorization", "unknown token", "GET", path, treasurer.token, nil)
	for _, bad := range []struct{ path, field string }{
		{"/v1/exports/ledger?to=2026-12-31", "from"},
		{"/v1/exports/payments?from=2026-12-31&to=2026-12-01", "to"},
		{"/v1/exports/payments?from=2020-01-01&to=2026-12-01", "to"},
		{"/v1/exports/payments?from=2026-13-01&to=2026-12-01", "from"},
	} {
		e.refused(400, bad.field, "", "GET", bad.path, adminToken, nil)
	}
	e.refused(404, "", "report not found", "GET", "/v1/exports/members?from=2026-01-01&to=2026-12-31", adminToken, nil)
}
