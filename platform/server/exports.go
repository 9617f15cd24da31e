package server

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cooperator-dev/cooperator/platform/server/dayclock"
	"github.com/cooperator-dev/cooperator/platform/server/store/funds"
	"github.com/cooperator-dev/cooperator/platform/server/store/payments"
)

// csvFile is a handler's answer that is a CSV file, not JSON.
type csvFile struct {
	name string
	rows [][]string
}

func (c *csvFile) write(w http.ResponseWriter) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.UseCRLF = true // RFC 4180, what spreadsheets and accounting tools expect
	_ = cw.WriteAll(c.rows)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+c.name+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// maxExportDays bounds an export's period.
const maxExportDays = 400

// exportReport answers the treasurer's CSV exports of a period: the ledger entry by
// entry, the payments and refunds with their fee and fund breakdown, the disbursements.
// Staff read them: the admin token, or an active member with the staff role (the
// co-op's treasurer); other members get 403.
func (s *Server) exportReport(r *http.Request, p principal) (int, any, error) {
	if !isStaff(p) {
		return 0, nil, forbidden("the treasurer's exports are read by staff: the admin token or a member with the staff role")
	}
	report := r.PathValue("report")
	if !slices.Contains([]string{"ledger", "payments", "disbursements"}, report) {
		return 0, nil, notFound("report")
	}
	fromDate, toDate, err := exportPeriod(r)
	if err != nil {
		return 0, nil, err
	}
	// The period's instants: from the first of from's day on the co-op's clock to the first
	// of the day after to (a midnight summer time skips begins its day an hour later).
	zone := s.location()
	from, end := dayclock.Of(fromDate, zone).Start(), dayclock.Of(toDate.AddDate(0, 0, 1), zone).Start()
	name := fmt.Sprintf("%s-%s-%s.csv", report, fromDate.Format(time.DateOnly), toDate.Format(time.DateOnly))
	var rows [][]string
	switch report {
	case "ledger":
		rows, err = s.ledgerCSV(r, from, end, zone)
	case "payments":
		rows, err = s.paymentsCSV(r, from, end, zone)
	case "disbursements":
		rows, err = s.disbursementsCSV(r, from, end, zone)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &csvFile{name: name, rows: rows}, nil
}

// exportPeriod reads the period's from and to (dates of the co-op's calendar, both
// included), as dates (their midnights in UTC).
func exportPeriod(r *http.Request) (from, to time.Time, err error) {
	date := func(field string) (time.Time, error) {
		v := r.URL.Query().Get(field)
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return d, badField(field, "is required: a date like 2026-12-31 (the co-op's date, included)")
		}
		return d, nil
	}
	if from, err = date("from"); err != nil {
		return
	}
	if to, err = date("to"); err != nil {
		return
	}
	if to.Before(from) || to.After(from.AddDate(0, 0, maxExportDays)) {
		return from, to, badField("to", fmt.Sprintf("must be from from to %d days after it", maxExportDays))
	}
	return from, to, nil
}

// cents formats integer cents as a decimal amount in currency units (-12.34), exactly.
func cents(c int64) string {
	sign := ""
	u := uint64(c)
	if c < 0 {
		sign, u = "-", uint64(-c)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// text makes free text safe for a spreadsheet: a cell starting with = + - @ or a control
// character would be read as a formula.
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func optID(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}

// The CSV files' date is the co-op's (its time zone), their time the instant in UTC.

func (s *Server) ledgerCSV(r *http.Request, from, to time.Time, zone *time.Location) ([][]string, error) {
	lines, err := payments.On(s.pool).LedgerLines(r.Context(), from, to)
	if err != nil {
		return nil, err
	}
	rows := [][]string{{"date", "time", "transaction_id", "kind", "account", "member_id", "amount", "amount_cents", "payment_id", "disbursement_id"}}
	for _, l := range lines {
		rows = append(rows, []string{l.At.In(zone).Format(time.DateOnly), l.At.UTC().Format(time.RFC3339), strconv.FormatInt(l.TransactionID, 10),
			l.Kind, l.Account, optID(l.MemberID), cents(l.AmountCents), strconv.FormatInt(l.AmountCents, 10), optID(l.PaymentID), optID(l.DisbursementID)})
	}
	return rows, nil
}

func (s *Server) paymentsCSV(r *http.Request, from, to time.Time, zone *time.Location) ([][]string, error) {
	lines, err := payments.On(s.pool).PaymentLines(r.Context(), from, to)
	if err != nil {
		return nil, err
	}
	// One column per fund: the policy's, and any other a payment of the period fed.
	var fundNames []string
	if pol := s.policy.Current(); pol != nil {
		for _, f := range pol.FeeSplit.Funds {
			fundNames = append(fundNames, f.Name)
		}
	}
	for _, l := range lines {
		for _, f := range l.Split.Funds {
			if !slices.Contains(fundNames, f.Name) {
				fundNames = append(fundNames, f.Name)
			}
		}
	}
	head := []string{"date", "time", "kind", "payment_id", "transaction_id", "work_id", "payer_id", "worker_id", "gross", "surge", "platform_fee"}
	for _, f := range fundNames {
		head = append(head, "fund_"+f)
	}
	rows := [][]string{append(head, "operating", "coop_surge", "worker")}
	for _, l := range lines {
		sp := l.Split
		row := []string{l.At.In(zone).Format(time.DateOnly), l.At.UTC().Format(time.RFC3339), l.Kind, strconv.FormatInt(l.PaymentID, 10),
			strconv.FormatInt(l.TransactionID, 10), optID(l.WorkID), optID(l.PayerID), strconv.FormatInt(l.WorkerID, 10),
			cents(sp.GrossCents), cents(sp.SurgeCents), cents(sp.PlatformFeeCents)}
		for _, name := range fundNames {
			var v int64
			for _, f := range sp.Funds {
				if f.Name == name {
					v += f.AmountCents
				}
			}
			row = append(row, cents(v))
		}
		rows = append(rows, append(row, cents(sp.OperatingCents), cents(sp.CoopSurgeCents), cents(sp.WorkerCents)))
	}
	return rows, nil
}

func (s *Server) disbursementsCSV(r *http.Request, from, to time.Time, zone *time.Location) ([][]string, error) {
	ds, ats, err := funds.On(s.pool).Paid(r.Context(), from, to)
	if err != nil {
		return nil, err
	}
	rows := [][]string{{"date", "time", "disbursement_id", "transaction_id", "fund", "amount", "member_id", "payee", "approval", "proposal_id", "reason"}}
	for i, d := range ds {
		payee := ""
		if d.Payee != nil {
			payee = *d.Payee
		}
		rows = append(rows, []string{ats[i].In(zone).Format(time.DateOnly), ats[i].UTC().Format(time.RFC3339), strconv.FormatInt(d.ID, 10),
			optID(d.TransactionID), d.Fund, cents(d.AmountCents), optID(d.MemberID), text(payee), d.Approval, optID(d.ProposalID), text(d.Reason)})
	}
	return rows, nil
}
