package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/governance"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/funds"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/sessions"
)

type fundShare struct {
	Name        string `json:"name"`
	BasisPoints int64  `json:"basisPoints"`
	AmountCents int64  `json:"amountCents"`
}

type splitView struct {
	GrossCents       int64       `json:"grossCents"`
	SurgeCents       int64       `json:"surgeCents"`
	PlatformFeeCents int64       `json:"platformFeeCents"`
	Funds            []fundShare `json:"funds"`
	OperatingCents   int64       `json:"operatingCents"`
	WorkerSurgeCents int64       `json:"workerSurgeCents"`
	CoopSurgeCents   int64       `json:"coopSurgeCents"`
	WorkerCents      int64       `json:"workerCents"`
}

type paymentView struct {
	ID         int64     `json:"id"`
	WorkID     *int64    `json:"workId"`
	PayerID    *int64    `json:"payerId"`
	WorkerID   int64     `json:"workerId"`
	GrossCents int64     `json:"grossCents"`
	Split      splitView `json:"split"`
	Refunded   bool      `json:"refunded"`
	RefundedBy string    `json:"refundedBy"`
	CreatedAt  time.Time `json:"createdAt"`
	// CanRefund: the member reading it is the worker it paid, and it is not refunded (the
	// API judges the refund itself).
	CanRefund bool `json:"-"`
	// CanAskRefund: the member reading it paid it, it is not refunded, and no refund of it
	// is put to the vote (Pending names the proposal of the one that is).
	CanAskRefund bool  `json:"-"`
	Pending      int64 `json:"-"`
	// LastRefund is the latest request of a refund by vote when the vote decided it and the
	// payment was not refunded: turned down, or passed but not made (nil: none).
	LastRefund *refundRequestView `json:"-"`
}

type earningView struct {
	Kind        string    `json:"kind"`
	AmountCents int64     `json:"amountCents"`
	At          time.Time `json:"at"`
	PaymentID   *int64    `json:"paymentId"`
	Payment     *paymentView
}

type period struct {
	Label string
	Cents int64
}

type earningsData struct {
	MemberID int64
	// EarnedCents is what the member earned for work: payments and tips, refunds taken
	// off; not what a fund paid them.
	EarnedCents int64
	Entries     []earningView
	Weeks       []period
	Months      []period
	Chart       chart
	// Payouts are what the co-op's funds paid the member (disbursements), newest first,
	// and PayoutCents their sum.
	Payouts     []earningView
	PayoutCents int64
}

// earnings shows a member's earnings by week and month with each payment's fee
// breakdown; the API answers 403 for anyone but the member (and staff).
func (a *App) earnings(q *req) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	var e struct {
		MemberID    int64         `json:"memberId"`
		EarnedCents int64         `json:"earnedCents"`
		PayoutCents int64         `json:"payoutCents"`
		Entries     []earningView `json:"entries"`
	}
	if !a.get(q, fmt.Sprintf("/v1/members/%d/earnings", id), &e) {
		return
	}
	d := earningsData{MemberID: e.MemberID, EarnedCents: e.EarnedCents, PayoutCents: e.PayoutCents}
	weeks, months := map[string]int64{}, map[string]int64{}
	for i := len(e.Entries) - 1; i >= 0; i-- { // newest first
		en := e.Entries[i]
		// A disbursement is a fund's payout to the member (hardship, say), which the members
		// or staff decided: not earnings for work (the API counts it apart). It is shown
		// apart, and counts in neither the weeks nor the months.
		if en.Kind == funds.TxDisbursement {
			d.Payouts = append(d.Payouts, en)
			continue
		}
		// Weeks and months of the co-op's calendar.
		y, w := en.At.In(q.zone).ISOWeek()
		weeks[fmt.Sprintf("%d-W%02d", y, w)] += en.AmountCents
		months[en.At.In(q.zone).Format("2006-01")] += en.AmountCents
		if en.PaymentID != nil && len(d.Entries) < 50 {
			var p paymentView
			if st, body := a.call(q, http.MethodGet, fmt.Sprintf("/v1/payments/%d", *en.PaymentID), nil, nil); st == http.StatusOK && json.Unmarshal(body, &p) == nil {
				en.Payment = &p
			}
		}
		d.Entries = append(d.Entries, en)
	}
	d.Weeks, d.Months = sortedPeriods(weeks), sortedPeriods(months)
	var bars []bar
	for _, m := range d.Months {
		bars = append(bars, bar{Label: m.Label, Value: m.Cents, Text: money(q.lang, m.Cents)})
	}
	d.Chart = barChart(tr(q.lang, "earnings.chart"), bars)
	a.render(q, http.StatusOK, "earnings", "earnings.title", page{Data: d, Nav: "earnings"})
}

func sortedPeriods(m map[string]int64) []period {
	var out []period
	for k, v := range m {
		out = append(out, period{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

func (a *App) paymentPage(q *req) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	a.showPayment(q, id, http.StatusOK, nil, nil)
}

// showPayment renders payment id as the API shows it to the member, with the refund
// form for the worker it paid and the form asking the members for its refund for its
// payer (errs: the forms' errors, with status; form: what the member typed).
func (a *App) showPayment(q *req, id int64, status int, errs, form map[string]string) {
	var p paymentView
	if !a.get(q, fmt.Sprintf("/v1/payments/%d", id), &p) {
		return
	}
	p.CanRefund = !p.Refunded && p.WorkerID == q.member.ID
	if !p.Refunded {
		var reqs struct {
			RefundRequests []refundRequestView `json:"refundRequests"`
		}
		if !a.get(q, fmt.Sprintf("/v1/payments/%d/refund-requests", id), &reqs) {
			return
		}
		if rs := reqs.RefundRequests; len(rs) > 0 {
			switch rs[0].Status {
			case "pending":
				p.Pending = rs[0].ProposalID
			case "rejected", "failed":
				rs[0].Message = trAPI(q.lang, q.zone, rs[0].Message)
				p.LastRefund = &rs[0]
			}
		}
		p.CanAskRefund = p.Pending == 0 && p.PayerID != nil && *p.PayerID == q.member.ID
	}
	a.render(q, status, "payment", "payment.title", page{Data: p, Errors: errs, Form: form, Flash: flashFrom(q), Nav: "money"})
}

// refundRequestView is a refund put to the vote, as the API lists a payment's.
type refundRequestView struct {
	Status     string     `json:"status"`
	ProposalID int64      `json:"proposalId"`
	Message    string     `json:"message"`
	DecidedAt  *time.Time `json:"decidedAt"`
}

// askRefund: the member who paid a payment puts its refund to the members' vote, with why
// (POST /v1/payments/{id}/refund with a reason: the API opens the proposal).
func (a *App) askRefund(q *req) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	// The API checks the reason (required, at most 1000 characters); its 400 is said next
	// to the field.
	reason := strings.TrimSpace(q.r.PostForm.Get("reason"))
	form := map[string]string{"reason": q.r.PostForm.Get("reason")}
	st, body := a.call(q, http.MethodPost, fmt.Sprintf("/v1/payments/%d/refund", id), map[string]string{"reason": reason}, nil)
	switch st {
	case http.StatusAccepted:
		a.redirect(q, fmt.Sprintf("/app/payments/%d?done=askRefund", id))
	case http.StatusBadRequest, http.StatusConflict:
		a.showPayment(q, id, st, map[string]string{"reason": apiMessage(q.lang, q.zone, body)}, form)
	default:
		a.failAPI(q, st, body)
	}
}

// refund: the worker a payment paid refunds it in full (POST /v1/payments/{id}/refund),
// once they tick the box that says what a refund takes back.
func (a *App) refund(q *req) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	if q.r.PostForm.Get("confirm") != "yes" {
		a.showPayment(q, id, http.StatusBadRequest, map[string]string{"confirm": tr(q.lang, "refund.confirmRequired")}, nil)
		return
	}
	st, body := a.call(q, http.MethodPost, fmt.Sprintf("/v1/payments/%d/refund", id), nil, nil)
	switch st {
	case http.StatusOK:
		a.redirect(q, fmt.Sprintf("/app/payments/%d?done=refund", id))
	case http.StatusConflict:
		// Refunded already, or a fund no longer holds its share: said next to the form.
		a.showPayment(q, id, st, map[string]string{"confirm": apiMessage(q.lang, q.zone, body)}, nil)
	default:
		a.failAPI(q, st, body)
	}
}

type account struct {
	Account      string `json:"account"`
	BalanceCents int64  `json:"balanceCents"`
	// Former says a fund's account is a former fund's: no longer in the policy (the
	// members renamed or removed it), what it holds may still be asked from it.
	Former bool `json:"former"`
}

type moneyData struct {
	Accounts        []account
	PaidToWorkers   int64
	Received        int64
	Disbursed       int64
	FeePercent      string
	Funds           []fundRule
	SurgeToWorkers  int64
	Example         *splitView
	Chart           chart
	HostingLines    []hostingLine
	HostingReported bool
	HubUnavailable  bool
	HostingChart    chart
	// FundHistory is each fund's balance at the end of each month it moved.
	FundHistory []fundHistory
}

type fundHistory struct {
	Name   string
	Months []period
	Chart  chart
	// OlderLeftOut says the fund moved in months older than Months, which the chart
	// leaves out.
	OlderLeftOut bool
}

// fundHistoryMonths is how many months a fund's chart shows, the newest in which it moved.
const fundHistoryMonths = 24

// fundMonths reads a fund's balance at the end of each of the newest months it moved in
// (at most fundHistoryMonths), oldest first; false when its history could not be read (and
// the answer is written). The API answers a member the fund's months (of the co-op's
// calendar), newest first, each with the balance at its end, read in one snapshot, and
// whether older months exist (nextBefore); never its movements one by one.
func (a *App) fundMonths(q *req, name string) (fundHistory, bool) {
	fh := fundHistory{Name: name}
	var h struct {
		Months []struct {
			Month        string `json:"month"`
			BalanceCents int64  `json:"balanceCents"`
		} `json:"months"`
		NextBefore *string `json:"nextBefore"`
	}
	if !a.get(q, "/v1/funds/"+url.PathEscape(name)+"?limit="+strconv.Itoa(fundHistoryMonths), &h) {
		return fh, false
	}
	for _, m := range h.Months {
		fh.Months = append([]period{{m.Month, m.BalanceCents}}, fh.Months...)
	}
	fh.OlderLeftOut = h.NextBefore != nil
	return fh, true
}

type fundRule struct {
	Name    string
	Percent string
}

type hostingLine struct {
	Month, Amount, Currency, Share string
	Final                          bool
	// EstimatedAt is when the hub took a running estimate ("" when final or not told).
	EstimatedAt string
}

// hubReport is what the hub says of the co-op (GET /v1/reports/hub).
type hubReport struct {
	Published   bool `json:"published"`
	Reliability *struct {
		Ready, Database, Platform, Backup hubCheck
		LastBackup                        *time.Time `json:"lastBackup"`
	} `json:"reliability"`
	Hosting []struct {
		Period       string     `json:"period"`
		Final        bool       `json:"final"`
		EstimatedAt  *time.Time `json:"estimatedAt"`
		Currency     string     `json:"currency"`
		Amount       string     `json:"amount"`
		SharePercent string     `json:"sharePercent"`
	} `json:"hosting"`
}

type hubCheck struct {
	Status string     `json:"status"`
	Since  *time.Time `json:"since"`
}

// hubReport reads what the hub published; ok is false when the service cannot answer it
// (503 while the hub's document cannot be read): the page then says so in that part.
func (a *App) hubReport(q *req) (h hubReport, ok bool) {
	st, body := a.call(q, http.MethodGet, "/v1/reports/hub", nil, nil)
	if st != http.StatusOK || json.Unmarshal(body, &h) != nil {
		return hubReport{}, false
	}
	return h, true
}

// decimalText writes an exact decimal string (the hub's amounts) the language's way.
func decimalText(lang, s string) string {
	if lang == "fr" {
		return strings.Replace(s, ".", ",", 1)
	}
	return s
}

// percent renders basis points as a percentage with two decimals, the language's way
// (3.00 or 3,00).
func percent(lang string, bp int64) string {
	return decimalText(lang, fmt.Sprintf("%d.%02d", bp/100, bp%100))
}

// percentText writes a decimal (the API's, or one with a point) as a percentage the
// language's way, as the catalogues write one: 66.67% in English, 66,67 % in French.
func percentText(lang, s string) string {
	if lang == "fr" {
		return decimalText(lang, s) + " %"
	}
	return s + "%"
}

func (a *App) money(q *req) {
	var rep struct {
		Accounts           []account `json:"accounts"`
		PaidToWorkersCents int64     `json:"paidToWorkersCents"`
		ReceivedCents      int64     `json:"receivedCents"`
		DisbursedCents     int64     `json:"disbursedCents"`
	}
	if !a.get(q, "/v1/reports/funds", &rep) {
		return
	}
	d := moneyData{Accounts: rep.Accounts, PaidToWorkers: rep.PaidToWorkersCents, Received: rep.ReceivedCents, Disbursed: rep.DisbursedCents}
	sort.Slice(d.Accounts, func(i, j int) bool { return d.Accounts[i].Account < d.Accounts[j].Account })
	if pol := a.cfg.Backend.Policy(); pol != nil {
		d.FeePercent = percent(q.lang, pol.FeeSplit.PlatformFeeBasisPoints)
		for _, f := range pol.FeeSplit.Funds {
			d.Funds = append(d.Funds, fundRule{f.Name, percent(q.lang, f.BasisPoints)})
		}
		d.SurgeToWorkers = pol.FeeSplit.SurgeToWorkersPercent
	}
	var bars []bar
	for _, ac := range d.Accounts {
		bars = append(bars, bar{Label: accountName(q.lang, ac), Value: ac.BalanceCents, Text: money(q.lang, ac.BalanceCents)})
	}
	d.Chart = barChart(tr(q.lang, "money.chart"), bars)
	hub, ok := a.hubReport(q)
	d.HubUnavailable = !ok
	if hub.Published && len(hub.Hosting) > 0 {
		d.HostingReported = true
		var hb []bar
		for i := len(hub.Hosting) - 1; i >= 0; i-- { // oldest first in the chart
			h := hub.Hosting[i]
			cents, _ := parseCents(strings.TrimPrefix(h.Amount, "-"))
			hb = append(hb, bar{Label: h.Period, Value: cents, Text: decimalText(q.lang, h.Amount) + " " + h.Currency})
		}
		for _, h := range hub.Hosting {
			d.HostingLines = append(d.HostingLines, hostingLine{Month: h.Period, Amount: decimalText(q.lang, h.Amount), Currency: h.Currency,
				Share: decimalText(q.lang, h.SharePercent), Final: h.Final, EstimatedAt: dateTime(q.lang, q.zone, h.EstimatedAt)})
		}
		d.HostingChart = barChart(tr(q.lang, "money.hosting"), hb)
	}
	// The policy's funds' histories, then the former funds'.
	title := map[string]string{}
	var names []string
	for _, f := range d.Funds {
		names, title[f.Name] = append(names, f.Name), tr(q.lang, "money.fundHistory")
	}
	for _, ac := range d.Accounts {
		if name, ok := strings.CutPrefix(ac.Account, "fund:"); ok && ac.Former {
			names, title[name] = append(names, name), tr(q.lang, "money.formerFundHistory")
		}
	}
	for _, name := range names {
		fh, ok := a.fundMonths(q, name)
		if !ok {
			return
		}
		var fb []bar
		for _, m := range fh.Months {
			fb = append(fb, bar{Label: m.Label, Value: m.Cents, Text: money(q.lang, m.Cents)})
		}
		fh.Chart = barChart(fmt.Sprintf(title[name], name), fb)
		d.FundHistory = append(d.FundHistory, fh)
	}
	a.render(q, http.StatusOK, "money", "money.title", page{Data: d, Nav: "money"})
}

// accountName names an account of the funds' report in words (a former fund's as one).
func accountName(lang string, ac account) string {
	switch acct := ac.Account; {
	case acct == "coop:operating":
		return tr(lang, "account.operating")
	case acct == "coop:surge":
		return tr(lang, "account.surge")
	case strings.HasPrefix(acct, "fund:") && ac.Former:
		return tr(lang, "account.formerFund") + " " + strings.TrimPrefix(acct, "fund:")
	case strings.HasPrefix(acct, "fund:"):
		return tr(lang, "account.fund") + " " + strings.TrimPrefix(acct, "fund:")
	}
	return ac.Account
}

type proposalView struct {
	ID         int64           `json:"id"`
	Title      string          `json:"title"`
	Body       string          `json:"body"`
	Field      string          `json:"field"`
	Value      json.RawMessage `json:"value"`
	Status     string          `json:"status"`
	CreatedAt  time.Time       `json:"createdAt"`
	Deadline   *time.Time      `json:"deadline"`
	ClosedAt   *time.Time      `json:"closedAt"`
	Electorate int64           `json:"electorate"`
	Result     *struct {
		Passed          bool   `json:"passed"`
		QuorumReached   bool   `json:"quorumReached"`
		TurnoutPercent  string `json:"turnoutPercent"`
		ApprovalPercent string `json:"approvalPercent"`
		Reason          string `json:"reason"`
		Classes         []struct {
			Class    string `json:"class"`
			Eligible int    `json:"eligible"`
			Yes      int    `json:"yes"`
			No       int    `json:"no"`
			Abstain  int    `json:"abstain"`
			Object   int    `json:"object"`
		} `json:"classes"`
	} `json:"result"`
	Application *struct {
		State   string     `json:"state"`
		Message string     `json:"message"`
		At      *time.Time `json:"at"`
	} `json:"application"`
	Old, New []string `json:"-"`
	// Model is the voting model the proposal was opened under (empty for one opened
	// before rules were recorded: the policy's); MyBallot and OnRoll are the member's
	// ballot on it and whether they are on its roll, as the list reads them for a member.
	Model    string  `json:"model"`
	MyBallot *string `json:"myBallot"`
	OnRoll   *bool   `json:"onRoll"`
	// Choices are the choices its ballot takes, under its model.
	Choices []string `json:"-"`
}

// NotOnRoll says the member may not vote on the proposal: they were not on its roll
// when it opened.
func (p proposalView) NotOnRoll() bool { return p.OnRoll != nil && !*p.OnRoll }

// Voted is the member's ballot on the proposal ("" before they vote).
func (p proposalView) Voted() string {
	if p.MyBallot == nil {
		return ""
	}
	return *p.MyBallot
}

// BallotKey is the key of the page's refusal of the member's ballot on the proposal.
func (p proposalView) BallotKey() string { return fmt.Sprintf("vote-%d", p.ID) }

type governanceData struct {
	Open, Closed []proposalView
	Model        string
	Delegate     bool
	// DelegateID is whom the member delegated their vote to, under the delegate model
	// (0: nobody).
	DelegateID int64
	// BreakGlass are the changes of governed fields the hub made without a vote, as the
	// operator recorded them (policy.Policy.BreakGlass), the newest first.
	BreakGlass []breakGlassView
}

// breakGlassView is a break-glass use with each part's value before and after in words.
type breakGlassView struct {
	policy.BreakGlassUse
	Values []breakGlassValues
}

// breakGlassValues is one part a break-glass use changed, before and after, in words.
type breakGlassValues struct {
	Field    string
	Old, New []string
}

// partWords puts a governed part's value in words: the fee split as its shares, another
// part as its JSON.
func partWords(lang, part string, value json.RawMessage) []string {
	if part == policy.PartFeeSplit {
		var fs policy.FeeSplit
		if json.Unmarshal(value, &fs) == nil {
			return feeWords(lang, fs)
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, value) != nil {
		return []string{string(value)}
	}
	return []string{buf.String()}
}

func (a *App) governance(q *req) {
	d, ok := a.governanceData(q)
	if !ok {
		return
	}
	a.render(q, http.StatusOK, "governance", "governance.title", page{Data: d, Nav: "governance", Flash: flashFrom(q)})
}

// governanceData reads the proposals, each with the member's ballot and the choices of
// its model, and puts each change in words beside what is in force.
func (a *App) governanceData(q *req) (governanceData, bool) {
	var list struct {
		Proposals []proposalView `json:"proposals"`
	}
	if !a.get(q, "/v1/proposals", &list) {
		return governanceData{}, false
	}
	pol := a.cfg.Backend.Policy()
	var d governanceData
	if pol != nil {
		d.Model = pol.Governance.Model
		for _, u := range slices.Backward(pol.BreakGlass) { // recorded the latest last
			v := breakGlassView{BreakGlassUse: u}
			for _, c := range u.Changes {
				v.Values = append(v.Values, breakGlassValues{Field: c.Field, Old: partWords(q.lang, c.Field, c.Old), New: partWords(q.lang, c.Field, c.New)})
			}
			d.BreakGlass = append(d.BreakGlass, v)
		}
	}
	d.Delegate = d.Model == policy.Delegate
	if d.Delegate {
		var del struct {
			DelegateID *int64 `json:"delegateId"`
		}
		if !a.get(q, "/v1/delegation", &del) {
			return governanceData{}, false
		}
		if del.DelegateID != nil {
			d.DelegateID = *del.DelegateID
		}
	}
	// The fare rule in force, read once, when a proposal changes it: the members may have
	// voted one since the policy's.
	var fares *policy.Fares
	if slices.ContainsFunc(list.Proposals, func(p proposalView) bool { return p.Field == policy.PartFares }) {
		var ok bool
		if fares, ok = a.faresInForce(q); !ok {
			return governanceData{}, false
		}
	}
	for _, p := range list.Proposals {
		p.Old, p.New = describeChange(q.lang, pol, fares, p.Field, p.Value)
		p.Choices = governance.Choices(cmp.Or(p.Model, d.Model))
		if p.Status == "open" {
			d.Open = append(d.Open, p)
		} else {
			d.Closed = append(d.Closed, p)
		}
	}
	return d, true
}

// describeChange puts a governed change in plain words: the value in force and the new
// one; fares is the fare rule in force (nil: none, or not read).
func describeChange(lang string, pol *policy.Policy, fares *policy.Fares, field string, value json.RawMessage) (old, new []string) {
	if field == "" {
		return nil, nil
	}
	if field == policy.PartFares {
		var f policy.Fares
		if json.Unmarshal(value, &f) == nil {
			if fares != nil {
				old = fareWords(lang, *fares)
			}
			return old, fareWords(lang, f)
		}
	}
	if field == "feeSplit" {
		var fs policy.FeeSplit
		if json.Unmarshal(value, &fs) == nil {
			new = feeWords(lang, fs)
			if pol != nil {
				old = feeWords(lang, pol.FeeSplit)
			}
			return old, new
		}
	}
	if pol != nil {
		if cur := pol.ValueInForce(field); cur != nil {
			old = []string{string(cur)}
		}
	}
	return old, []string{string(value)}
}

func feeWords(lang string, fs policy.FeeSplit) []string {
	out := []string{fmt.Sprintf(tr(lang, "fee.platform"), percent(lang, fs.PlatformFeeBasisPoints))}
	for _, f := range fs.Funds {
		out = append(out, fmt.Sprintf(tr(lang, "fee.fund"), f.Name, percent(lang, f.BasisPoints)))
	}
	out = append(out, fmt.Sprintf(tr(lang, "fee.surge"), fs.SurgeToWorkersPercent))
	return out
}

// fareWords puts a fare rule in plain words: its amounts in the co-op's money, its surge
// windows, and the names of its zones and time rates.
func fareWords(lang string, f policy.Fares) []string {
	var out []string
	for _, am := range fareAmounts {
		if v := *am.of(&f); v != 0 || am.name == "baseCents" {
			out = append(out, tr(lang, "propose.fare."+am.name)+": "+money(lang, v))
		}
	}
	for _, w := range f.Surge {
		days := tr(lang, "fare.everyDay")
		if len(w.Days) > 0 {
			var names []string
			for _, d := range w.Days {
				names = append(names, tr(lang, "day."+d))
			}
			days = strings.Join(names, ", ")
		}
		out = append(out, fmt.Sprintf(tr(lang, "fare.surgeWindow"), w.Percent, days, w.From, w.To))
	}
	var zones, rates []string
	for _, z := range f.Zones {
		zones = append(zones, z.Name)
	}
	for _, r := range f.TimeRates {
		rates = append(rates, r.Name)
	}
	if len(zones) > 0 {
		out = append(out, fmt.Sprintf(tr(lang, "fare.zones"), strings.Join(zones, ", ")))
	}
	if len(rates) > 0 {
		out = append(out, fmt.Sprintf(tr(lang, "fare.timeRates"), strings.Join(rates, ", ")))
	}
	return out
}

// ballot casts the member's ballot; a refusal (no choice ticked, the vote closed, not on
// its roll) is said beside the proposal's form. The form of the proposal's own page
// (from=proposal) is answered there, the governance page's on it.
func (a *App) ballot(q *req) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	onProposal := q.r.PostForm.Get("from") == "proposal"
	st, body := a.call(q, http.MethodPut, fmt.Sprintf("/v1/proposals/%d/ballot", id), map[string]string{"choice": q.r.PostForm.Get("choice")}, nil)
	switch {
	case (st == http.StatusOK || st == http.StatusCreated) && onProposal:
		a.redirect(q, fmt.Sprintf("/app/proposals/%d?done=vote#mine-h", id))
		return
	case st == http.StatusOK || st == http.StatusCreated:
		a.redirect(q, fmt.Sprintf("/app/governance?done=vote#proposal-%d", id))
		return
	case (st == http.StatusBadRequest || st == http.StatusConflict || st == http.StatusForbidden) && onProposal:
		d, ok := a.proposalData(q, id)
		if !ok {
			return
		}
		// Beside the form while it is open; above the page once it closed meanwhile.
		key := "form"
		if d.Open() {
			key = d.P.BallotKey()
		}
		errs := map[string]string{key: apiMessage(q.lang, q.zone, body)}
		a.render(q, st, "proposal", "proposal.title", page{Data: d, Errors: errs, Nav: "governance"})
		return
	case st == http.StatusBadRequest || st == http.StatusConflict || st == http.StatusForbidden:
		d, ok := a.governanceData(q)
		if !ok {
			return
		}
		// Beside the proposal while it is open; above the page once it closed meanwhile
		// (its card no longer has a ballot).
		key := "form"
		if slices.ContainsFunc(d.Open, func(p proposalView) bool { return p.ID == id }) {
			key = fmt.Sprintf("vote-%d", id)
		}
		errs := map[string]string{key: apiMessage(q.lang, q.zone, body)}
		a.render(q, st, "governance", "governance.title", page{Data: d, Errors: errs, Nav: "governance"})
		return
	}
	a.failAPI(q, st, body)
}

func (a *App) delegate(q *req) {
	to, _ := strconv.ParseInt(strings.TrimSpace(q.r.PostForm.Get("delegateId")), 10, 64)
	st, body := a.call(q, http.MethodPut, "/v1/delegation", map[string]int64{"delegateId": to}, nil)
	if st != http.StatusOK && st != http.StatusCreated {
		a.failAPI(q, st, body)
		return
	}
	a.redirect(q, "/app/governance?done=delegate")
}

func (a *App) undelegate(q *req) {
	st, body := a.call(q, http.MethodDelete, "/v1/delegation", nil, nil)
	if st != http.StatusOK && st != http.StatusNoContent {
		a.failAPI(q, st, body)
		return
	}
	a.redirect(q, "/app/governance?done=undelegate")
}

type vitalityData struct {
	Participation  chart
	Speed          chart
	Economy        chart
	Voted          int
	MedianTurnout  string
	MedianHours    string
	Received       int64
	FeeIncome      int64
	Proposals      int
	Reliability    []reliabilityRow
	LastBackup     *time.Time
	Reported       bool
	HubUnavailable bool
	// MedianHourly is the workers' median hourly earnings, formatted; empty when too few
	// workers completed an hour of work in the window (EarningsWorkers of EarningsMin).
	MedianHourly    string
	EarningsWorkers int
	EarningsMin     int
	EarningsDays    int
}

type reliabilityRow struct {
	Key    string // catalogue key of the part
	Status string // True, False, Unknown
	Since  *time.Time
}

// vitality shows the co-op's health: participation per closed proposal, how long
// decisions took, and its economy, from the same reads as the other pages.
func (a *App) vitality(q *req) {
	var list struct {
		Proposals []proposalView `json:"proposals"`
	}
	if !a.get(q, "/v1/proposals", &list) {
		return
	}
	var rep struct {
		Accounts           []account `json:"accounts"`
		PaidToWorkersCents int64     `json:"paidToWorkersCents"`
		ReceivedCents      int64     `json:"receivedCents"`
	}
	if !a.get(q, "/v1/reports/funds", &rep) {
		return
	}
	var earn struct {
		WindowDays        int    `json:"windowDays"`
		Workers           int    `json:"workers"`
		MinWorkers        int    `json:"minWorkers"`
		MedianHourlyCents *int64 `json:"medianHourlyCents"`
	}
	if !a.get(q, "/v1/reports/earnings", &earn) {
		return
	}
	var d vitalityData
	d.EarningsWorkers, d.EarningsMin, d.EarningsDays = earn.Workers, earn.MinWorkers, earn.WindowDays
	if earn.MedianHourlyCents != nil {
		d.MedianHourly = money(q.lang, *earn.MedianHourlyCents)
	}
	var part, speed []bar
	var turnouts []float64
	var hours []float64
	sort.Slice(list.Proposals, func(i, j int) bool { return list.Proposals[i].ID < list.Proposals[j].ID })
	for _, p := range list.Proposals {
		d.Proposals++
		if p.Result == nil || p.ClosedAt == nil {
			continue
		}
		d.Voted++
		t, _ := strconv.ParseFloat(p.Result.TurnoutPercent, 64)
		turnouts = append(turnouts, t)
		part = append(part, bar{Label: "#" + strconv.FormatInt(p.ID, 10), Value: int64(t * 100), Text: percentText(q.lang, p.Result.TurnoutPercent)})
		end := *p.ClosedAt
		if p.Application != nil && p.Application.At != nil {
			end = *p.Application.At
		}
		h := end.Sub(p.CreatedAt).Hours()
		hours = append(hours, h)
		speed = append(speed, bar{Label: "#" + strconv.FormatInt(p.ID, 10), Value: int64(h * 100), Text: decimalText(q.lang, fmt.Sprintf("%.1f", h)) + " h"})
	}
	d.Participation = barChart(tr(q.lang, "vitality.participation"), part)
	d.Speed = barChart(tr(q.lang, "vitality.speed"), speed)
	if len(turnouts) > 0 {
		d.MedianTurnout = decimalText(q.lang, fmt.Sprintf("%.1f", median(turnouts)))
		d.MedianHours = decimalText(q.lang, fmt.Sprintf("%.1f", median(hours)))
	}
	d.Received = rep.ReceivedCents
	var econ []bar
	econ = append(econ, bar{Label: tr(q.lang, "vitality.gross"), Value: rep.ReceivedCents, Text: money(q.lang, rep.ReceivedCents)})
	econ = append(econ, bar{Label: tr(q.lang, "vitality.workers"), Value: rep.PaidToWorkersCents, Text: money(q.lang, rep.PaidToWorkersCents)})
	for _, ac := range rep.Accounts {
		if strings.HasPrefix(ac.Account, "fund:") || ac.Account == "coop:operating" {
			d.FeeIncome += ac.BalanceCents
		}
	}
	econ = append(econ, bar{Label: tr(q.lang, "vitality.fees"), Value: d.FeeIncome, Text: money(q.lang, d.FeeIncome)})
	d.Economy = barChart(tr(q.lang, "vitality.economy"), econ)
	hub, ok := a.hubReport(q)
	d.HubUnavailable = !ok
	if hub.Published && hub.Reliability != nil {
		r := hub.Reliability
		d.Reported, d.LastBackup = true, r.LastBackup
		d.Reliability = []reliabilityRow{{"vitality.platform", r.Platform.Status, r.Platform.Since}, {"vitality.database", r.Database.Status, r.Database.Since},
			{"vitality.backups", r.Backup.Status, r.Backup.Since}}
	}
	a.render(q, http.StatusOK, "vitality", "vitality.title", page{Data: d, Nav: "vitality"})
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (a *App) dataPage(q *req) {
	a.showData(q, http.StatusOK, nil, nil)
}

// tokenView is one of the member's tokens, as the API lists them.
type tokenView struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	IssuedBy  string    `json:"issuedBy"`
	Current   bool      `json:"current"`
}

type dataData struct {
	Tokens []tokenView
	// ClaimedAt is when the member claimed their account (nil: not claimed).
	ClaimedAt *time.Time
	// Audit is the newest of the member's audit, as the page words it; More: there is more
	// (the download holds it all).
	Audit []auditRow
	More  bool
	// NewKey is the token a claim just gave the member, shown on this answer alone.
	NewKey string
	// DeviceCode is the sign-in code for another device this session just issued, shown
	// on this answer alone, and DeviceCodeEnds when it stops working.
	DeviceCode     string
	DeviceCodeEnds time.Time
	// SessionToken is the token the session ends with: the claim form sends it back, so
	// that the form sent again (a refresh, history) once a claim changed it claims no more.
	SessionToken int64
	// SignInAgain: the session is older than a claim or an erasure allows
	// (sessions.FreshFor); the page asks the member to sign in again in place of their
	// buttons.
	SignInAgain  bool
	FreshMinutes int
	// Sessions are the member's open sessions of the app, this one first; MoreSessions:
	// more are open than the page lists. Others: any but this one is open.
	Sessions     []sessions.Opened
	MoreSessions bool
	Others       bool
}

// dataSessions is how many of the member's open sessions the data page lists.
const dataSessions = 20

// auditRow is one entry of the member's audit: when, what and who.
type auditRow struct {
	At        time.Time
	What, Who string
}

// shownOnce is what the data page shows on one answer alone: the key a claim just gave,
// and when the account was claimed; or a sign-in code for another device this session just
// issued, and when it ends.
type shownOnce struct {
	key       string
	claimedAt time.Time
	code      string
	codeEnds  time.Time
}

// dataAuditRows is how many of the audit's newest entries the data page shows.
const dataAuditRows = 20

// showData renders the member's data page: their download, their tokens (who issued each,
// to revoke one they do not know), their claim of the account and its audit, their
// erasure (errs: the erase form's errors), and the key a claim just gave them or the
// sign-in code for another device this session just issued (just).
func (a *App) showData(q *req, status int, errs map[string]string, just *shownOnce) {
	var toks struct {
		Tokens []tokenView `json:"tokens"`
	}
	var me struct {
		ClaimedAt *time.Time `json:"claimedAt"`
	}
	type auditEntries struct {
		Entries []struct {
			Event      string    `json:"event"`
			Actor      string    `json:"actor"`
			Credential string    `json:"credential"`
			At         time.Time `json:"at"`
			NewValue   struct {
				TokenID  int64  `json:"tokenId"`
				IssuedBy string `json:"issuedBy"`
			} `json:"newValue"`
		} `json:"entries"`
	}
	// The newest entries the page shows (one more says there are more), and every token
	// issued, for who issued the tokens those entries name: a member who signs in every day
	// has many entries between a token's issue and its use.
	var audit, issued auditEntries
	base := fmt.Sprintf("/v1/members/%d", q.member.ID)
	get := a.get
	if just != nil {
		// The key a claim just gave, or the code just issued, shows whatever else fails: it
		// is shown only here.
		get = func(q *req, path string, v any) bool {
			if st, body := a.call(q, http.MethodGet, path, nil, nil); st == http.StatusOK {
				_ = json.Unmarshal(body, v)
			}
			return true
		}
	}
	if !get(q, base+"/tokens", &toks) || !get(q, base, &me) || !get(q, fmt.Sprintf("%s/audit?limit=%d", base, dataAuditRows+1), &audit) ||
		!get(q, base+"/audit?event=tokenIssued", &issued) {
		return
	}
	d := dataData{Tokens: toks.Tokens, ClaimedAt: me.ClaimedAt, More: len(audit.Entries) > dataAuditRows, SessionToken: q.member.TokenID,
		SignInAgain: !sessions.Fresh(q.member.SignedIn, a.cfg.Now()), FreshMinutes: int(sessions.FreshFor.Minutes())}
	open, more, err := sessionsOn(a.cfg.DB).OpenOf(q.r.Context(), q.member.ID, q.member.Session, a.cfg.Now(), dataSessions)
	if err != nil {
		a.unavailable(q, "sessions lookup failed", err)
		return
	}
	d.Sessions, d.MoreSessions = open, more
	d.Others = more || slices.ContainsFunc(open, func(o sessions.Opened) bool { return !o.Current })
	switch {
	case just != nil && just.key != "":
		d.NewKey = just.key
		d.ClaimedAt = cmp.Or(d.ClaimedAt, &just.claimedAt) // the page says claimed even when its reads failed
	case just != nil:
		d.DeviceCode, d.DeviceCodeEnds = just.code, just.codeEnds
	}
	// Who issued each token, from the audit's own entries: a token "you" used that staff
	// issued (the registration's) is said to be one.
	issuedBy := map[int64]string{}
	for _, e := range issued.Entries {
		issuedBy[e.NewValue.TokenID] = e.NewValue.IssuedBy
	}
	for _, t := range toks.Tokens {
		issuedBy[t.ID] = cmp.Or(t.IssuedBy, issuedBy[t.ID])
	}
	for i, e := range audit.Entries {
		if i == dataAuditRows {
			break
		}
		d.Audit = append(d.Audit, auditRow{At: e.At, What: tr(q.lang, "audit."+e.Event), Who: a.auditCredential(q, a.auditActor(q, e.Actor), e.Credential, issuedBy)})
	}

	a.render(q, status, "data", "data.title", page{Nav: "data", Data: d, Errors: errs, Flash: flashFrom(q)})
}

// auditActor words who made an entry of the member's audit: the member, staff, another
// member by number, or the database (a change made outside the platform).
func (a *App) auditActor(q *req, actor string) string {
	switch {
	case actor == "staff":
		return tr(q.lang, "audit.byStaff")
	case actor == fmt.Sprintf("member:%d", q.member.ID):
		return tr(q.lang, "audit.byYou")
	case strings.HasPrefix(actor, "member:"):
		return fmt.Sprintf(tr(q.lang, "audit.byMember"), strings.TrimPrefix(actor, "member:"))
	}
	return tr(q.lang, "audit.byDatabase")
}

// auditCredential words who made an entry with the credential they used (the audit's
// credential: token:<id>, app-session[:token:<id>], and for a sign-in code[:token:<id>] or
// app-code[:token:<id>]), one step back: a token staff issued, or an app session opened with
// a code staff issued (a code of no token) or with a code of such a token, says so.
// issuedBy: who issued each token, from the audit's tokenIssued entries and the member's
// tokens.
func (a *App) auditCredential(q *req, who, credential string, issuedBy map[int64]string) string {
	session := credential == "app-session" || strings.HasPrefix(credential, "app-session:token:")
	code := credential == "code" || strings.HasPrefix(credential, "code:token:")
	tok, err := strconv.ParseInt(credential[strings.LastIndex(credential, ":")+1:], 10, 64)
	switch {
	// A sign-in's: a code another session of the member's issued ("sign in on another
	// device"), a code staff issued, or a code of one of the member's tokens.
	case credential == "app-code" || strings.HasPrefix(credential, "app-code:token:"):
		return fmt.Sprintf(tr(q.lang, "audit.withAppCode"), who)
	case credential == "code":
		return fmt.Sprintf(tr(q.lang, "audit.withStaffCode"), who)
	case code && err == nil && issuedBy[tok] == "staff":
		return fmt.Sprintf(tr(q.lang, "audit.withCodeOfStaffToken"), who, tok)
	case code && err == nil:
		return fmt.Sprintf(tr(q.lang, "audit.withCodeOf"), who, tok)
	case credential == "" || (!session && (err != nil || !strings.HasPrefix(credential, "token:"))):
		return who // none, or one this page does not know
	case session && credential == "app-session":
		return fmt.Sprintf(tr(q.lang, "audit.inAppStaffCode"), who)
	case session && issuedBy[tok] == "staff":
		return fmt.Sprintf(tr(q.lang, "audit.inAppStaffToken"), who, tok)
	case session:
		return fmt.Sprintf(tr(q.lang, "audit.inApp"), who)
	case issuedBy[tok] == "staff":
		return fmt.Sprintf(tr(q.lang, "audit.withStaffToken"), who, tok)
	}
	return fmt.Sprintf(tr(q.lang, "audit.withToken"), who, tok)
}

// claim claims the member's account (POST /v1/members/{id}/claim) from this session, which
// stays open and now ends with the new key the claim gives: the page shows that key once
// (it is in no URL, so the answer is the page itself, not a redirect). Every other way
// into the account has ended, and staff issue the member no more.
func (a *App) claim(q *req) {
	if q.r.PostForm.Get("session") != strconv.FormatInt(q.member.TokenID, 10) {
		// A form from before the last claim (sent again by a refresh or from history): its
		// key was shown then; a new one takes the button on the page as it is now.
		a.redirect(q, "/app/data?done=claimStale")
		return
	}
	if !sessions.Fresh(q.member.SignedIn, a.cfg.Now()) {
		// The session grew too old for a claim since the page was shown: the page says to
		// sign in again (the API would refuse the claim all the same).
		a.redirect(q, "/app/data?done=signInAgain")
		return
	}
	st, body := a.call(q, http.MethodPost, fmt.Sprintf("/v1/members/%d/claim", q.member.ID), nil, nil)
	if st == http.StatusUnauthorized {
		// Another claim from this session (a second click) came first and rebound it.
		a.redirect(q, "/app/data?done=claimStale")
		return
	}
	var out struct {
		ID        int64     `json:"id"`
		Token     string    `json:"token"`
		ClaimedAt time.Time `json:"claimedAt"`
	}
	if st != http.StatusOK || json.Unmarshal(body, &out) != nil || out.Token == "" {
		a.failAPI(q, st, body)
		return
	}
	q.member.TokenID = out.ID // the session's token from now on
	a.showData(q, http.StatusOK, nil, &shownOnce{key: out.Token, claimedAt: out.ClaimedAt})
}

// deviceCode issues a sign-in code of the member's to type on another device (POST
// /v1/members/{id}/sign-in-codes) from this session, which must have signed in lately, as
// a claim must (the API refuses otherwise: a session someone else got hold of must not
// open more). The page shows the code once (it is in no URL, so the answer is the page
// itself, not a redirect), with when it ends: a code a session issues lasts minutes, and
// the session it opens is listed, and audited, as opened with it.
func (a *App) deviceCode(q *req) {
	if !sessions.Fresh(q.member.SignedIn, a.cfg.Now()) {
		// The session grew too old since the page was shown: the page says to sign in again.
		a.redirect(q, "/app/data?done=signInAgain")
		return
	}
	st, body := a.call(q, http.MethodPost, fmt.Sprintf("/v1/members/%d/sign-in-codes", q.member.ID), nil, nil)
	var out struct {
		Code      string    `json:"code"`
		ExpiresAt time.Time `json:"expiresAt"`
	}
	if st != http.StatusCreated || json.Unmarshal(body, &out) != nil || out.Code == "" {
		a.failAPI(q, st, body)
		return
	}
	a.showData(q, http.StatusOK, nil, &shownOnce{code: out.Code, codeEnds: out.ExpiresAt})
}

// signOutOthers ends every session of the member's but this one, whatever opened them (a
// code staff issued opens a session that ends with no token: revoking tokens leaves it
// open); the member audit records each (sessionEnded), by the member in this session. A
// session that ended meanwhile (a claim from another one) is signed out.
func (a *App) signOutOthers(q *req) {
	var n int64
	err := pgx.BeginFunc(q.r.Context(), a.cfg.DB, func(tx pgx.Tx) error {
		if err := a.auditAsMember(q, tx); err != nil {
			return err
		}
		var err error
		n, err = members.On(tx).EndOtherSessions(q.r.Context(), q.member.ID, members.Credential{TokenID: q.member.TokenID, Session: q.member.Session})
		return err
	})
	switch {
	case isNotFound(err) || errors.Is(err, store.ErrCredentialGone):
		a.signOut(q)
		return
	case err != nil:
		a.unavailable(q, "ending the other sessions failed", err)
		return
	}
	a.log.Info("member signed out of their other sessions of the members' app", "memberId", q.member.ID, "sessions", n)
	a.redirect(q, "/app/data?done=signOutOthers")
}

// revokeToken revokes one of the member's tokens (DELETE /v1/members/{id}/tokens/{tokenId});
// the sessions opened with it end with it.
func (a *App) revokeToken(q *req) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	st, body := a.call(q, http.MethodDelete, fmt.Sprintf("/v1/members/%d/tokens/%d", q.member.ID, id), nil, nil)
	if st != http.StatusOK {
		a.failAPI(q, st, body)
		return
	}
	a.redirect(q, "/app/data?done=revoke")
}

// dataExport downloads everything the co-op holds about the member (the API's export).
func (a *App) dataExport(q *req) {
	st, body := a.call(q, http.MethodGet, fmt.Sprintf("/v1/members/%d/export", q.member.ID), nil, nil)
	if st != http.StatusOK {
		a.failAPI(q, st, body)
		return
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="my-data-member-%d.json"`, q.member.ID))
	_, _ = q.w.Write(body)
}

// erase asks the API to erase the member's personal data; the form must confirm it.
func (a *App) erase(q *req) {
	if !sessions.Fresh(q.member.SignedIn, a.cfg.Now()) {
		// The session grew too old for an erasure since the page was shown: the page says
		// to sign in again (the API would refuse the erasure all the same).
		a.redirect(q, "/app/data?done=signInAgain")
		return
	}
	if q.r.PostForm.Get("confirm") != "yes" {
		a.showData(q, http.StatusBadRequest, map[string]string{"confirm": tr(q.lang, "data.confirmRequired")}, nil)
		return
	}
	st, body := a.call(q, http.MethodDelete, fmt.Sprintf("/v1/members/%d", q.member.ID), nil, nil)
	if st != http.StatusOK && st != http.StatusNoContent {
		if st == http.StatusConflict {
			a.showData(q, st, map[string]string{"confirm": apiMessage(q.lang, q.zone, body)}, nil)
			return
		}
		a.failAPI(q, st, body)
		return
	}
	// The erasure made the member inactive, which ended their sessions.
	setCookie(q.w, sessionCookie, "", -1, false)
	q.member, q.csrf = nil, ""
	a.render(q, http.StatusOK, "erased", "erased.title", page{})
}

// auditAsMember names, for the member audit's triggers in tx, the signed-in member and
// this session as who made the change and with what (as the API names a member's request).
func (a *App) auditAsMember(q *req, tx pgx.Tx) error {
	cred := members.Credential{TokenID: q.member.TokenID, Session: q.member.Session}
	return members.On(tx).SetAuditActor(q.r.Context(), fmt.Sprintf("member:%d", q.member.ID), cred.Audit())
}
