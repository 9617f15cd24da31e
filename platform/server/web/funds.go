package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cooperator-dev/cooperator/platform/server/store/funds"
)

type askFundData struct {
	Funds []fundOption
	// Key is the request's Idempotency-Key: the form sent twice (a double click, a
	// retry after a lost answer) asks once.
	Key string
}

// fundOption is a fund the form offers: the policy's, and the former funds that still
// hold money (renamed or removed by the members: the API pays from them until they are
// empty), named as such.
type fundOption struct {
	Name, Label string
}

// askFundForm is the form of a member's request for money from one of the co-op's funds
// (its hardship fund, say), for themselves: the members vote on it.
func (a *App) askFundForm(q *req) {
	a.showAskFund(q, http.StatusOK, nil, map[string]string{})
}

func (a *App) showAskFund(q *req, status int, errs, form map[string]string) {
	d := askFundData{Key: form["key"]}
	if d.Key == "" {
		d.Key = randomToken()
	}
	if pol := a.cfg.Backend.Policy(); pol != nil {
		for _, f := range pol.FeeSplit.Funds {
			d.Funds = append(d.Funds, fundOption{f.Name, f.Name})
		}
	}
	var rep struct {
		Accounts []account `json:"accounts"`
	}
	if !a.get(q, "/v1/reports/funds", &rep) {
		return
	}
	for _, ac := range rep.Accounts {
		if name, ok := strings.CutPrefix(ac.Account, "fund:"); ok && ac.Former && ac.BalanceCents > 0 {
			d.Funds = append(d.Funds, fundOption{name, accountName(q.lang, ac)})
		}
	}
	a.render(q, status, "askfund", "askFund.title", page{Data: d, Errors: errs, Form: form, Nav: "money"})
}

// askFund sends the member's request to the API, which puts it to the members' vote.
func (a *App) askFund(q *req) {
	f := q.r.PostForm
	form := map[string]string{"fund": f.Get("fund"), "amount": strings.TrimSpace(f.Get("amount")), "reason": strings.TrimSpace(f.Get("reason")), "key": f.Get("key")}
	errs := map[string]string{}
	cents, ok := parseCents(form["amount"])
	if !ok {
		errs["amount"] = tr(q.lang, "pay.amountInvalid")
	}
	if form["reason"] == "" || utf8.RuneCountInString(form["reason"]) > 1000 {
		errs["reason"] = tr(q.lang, "askFund.reasonRequired")
	}
	if form["key"] == "" || len(form["key"]) > 100 {
		a.fail(q, http.StatusBadRequest, "error.generic")
		return
	}
	if len(errs) == 0 {
		body := map[string]any{"fund": form["fund"], "amountCents": cents, "memberId": q.member.ID, "reason": form["reason"]}
		st, rb := a.call(q, http.MethodPost, "/v1/disbursements", body, http.Header{"Idempotency-Key": {"app-" + form["key"]}})
		switch st {
		case http.StatusCreated:
			var d funds.Disbursement
			_ = json.Unmarshal(rb, &d)
			a.redirect(q, fmt.Sprintf("/app/disbursements/%d?done=askedFund", d.ID))
			return
		case http.StatusBadRequest, http.StatusConflict:
			fld, _ := parseAPIErr(rb)
			key := "form"
			switch fld {
			case "amountCents":
				key = "amount"
			case "fund", "reason":
				key = fld
			}
			errs[key] = apiMessage(q.lang, q.zone, rb)
		default:
			a.failAPI(q, st, rb)
			return
		}
	}
	a.showAskFund(q, http.StatusBadRequest, errs, form)
}

// disbursementPage shows a disbursement (as the API shows it, funds.Disbursement) to its parties: what was asked, and what became
// of it (the vote under way, paid, rejected, or failed and why).
func (a *App) disbursementPage(q *req) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	var d funds.Disbursement
	if !a.get(q, fmt.Sprintf("/v1/disbursements/%d", id), &d) {
		return
	}
	a.render(q, http.StatusOK, "disbursement", "disbursement.title", page{Data: d, Nav: "money", Flash: flashFrom(q)})
}
