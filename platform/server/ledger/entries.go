package ledger

import "fmt"

// Ledger accounts. Every payment moves money from the payer account (money received from
// outside) to the worker's account, the funds and the co-op's accounts.
const (
	AcctPayer     = "payer"
	AcctOperating = "coop:operating"
	AcctCoopSurge = "coop:surge"
)

// AcctMember is a member's account.
func AcctMember(id int64) string { return fmt.Sprintf("member:%d", id) }

// AcctFund is a policy fund's account.
func AcctFund(name string) string { return "fund:" + name }

// Entry is one line of a ledger transaction.
type Entry struct {
	Account     string
	Member      *int64
	AmountCents int64
}

// EntriesFor turns a payment's split into balanced ledger entries: the payer's account
// gives the gross, the worker, the funds and the co-op's accounts receive their parts
// (zero amounts are left out).
func EntriesFor(payer *int64, worker int64, s Split) []Entry {
	es := []Entry{{AcctPayer, payer, -s.GrossCents}, {AcctMember(worker), &worker, s.WorkerCents}}
	for _, f := range s.Funds {
		es = append(es, Entry{AcctFund(f.Name), nil, f.AmountCents})
	}
	es = append(es, Entry{AcctOperating, nil, s.OperatingCents}, Entry{AcctCoopSurge, nil, s.CoopSurgeCents})
	out := es[:0]
	for _, e := range es {
		if e.AmountCents != 0 {
			out = append(out, e)
		}
	}
	return out
}

// Columns checks the entries balance and turns them into column arrays (for one
// INSERT ... SELECT FROM unnest).
func Columns(es []Entry) (accounts []string, members []*int64, amounts []int64, err error) {
	var sum int64
	accounts = make([]string, len(es))
	members = make([]*int64, len(es))
	amounts = make([]int64, len(es))
	for i, e := range es {
		sum += e.AmountCents
		accounts[i], members[i], amounts[i] = e.Account, e.Member, e.AmountCents
	}
	if sum != 0 {
		return nil, nil, nil, fmt.Errorf("ledger: transaction does not balance (%d)", sum)
	}
	return accounts, members, amounts, nil
}
