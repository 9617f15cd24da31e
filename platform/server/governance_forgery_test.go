package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/governance"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
)

// TestSecurity_TheServingRoleCannotForgeAVote: a compromised platform (its database role)
// cannot write what the operator's re-tally reads other than as a vote writes it: every
// forgery below is refused by the database itself (migrations 163 and 164, store.GrantServing).
func TestSecurity_TheServingRoleCannotForgeAVote(t *testing.T) {
	e := newEnv(t, withModel(t, policy.OneMemberOneVote, 50, 50))
	ana, bea := e.worker("Ana Worker"), e.worker("Bea Worker")
	cus := e.customer("Cid Customer")
	id := num(e.must(201, "POST", "/v1/proposals", ana.token, map[string]any{"title": "Fee to 2%", "field": "feeSplit", "value": lowerFee})["id"])
	ctx := context.Background()
	db := e.s.Pool() // the serving role's
	var rules string
	if err := db.QueryRow(ctx, `SELECT rules::text FROM proposals WHERE id = $1`, id).Scan(&rules); err != nil {
		t.Fatal(err)
	}
	refused := func(code, sql string, args ...any) {
		t.Helper()
		_, err := db.Exec(ctx, sql, args...)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != code {
			t.Errorf("%s: %v, want SQLSTATE %s", sql, err, code)
		}
	}
	const denied, check = "42501", "23514"
	// A decision minted whole: a closed proposal, a roll of one, a yes.
	refused(denied, `INSERT INTO proposals (title, field, change_value, rules, status, application, created_at, deadline, closed_at, result)
		VALUES ('Fee to 0', 'feeSplit', '{"platformFeeBasisPoints":0}', $1, 'closed', 'pending', now() - interval '1 minute', now(), now(), '{"passed":true}')`, rules)
	refused(denied, `INSERT INTO proposal_electorate (proposal_id, member_id) VALUES ($1, $2)`, id, cus.id)
	refused(denied, `INSERT INTO ballots (proposal_id, member_id, choice) VALUES ($1, $2, 'yes')`, id, cus.id)
	refused(denied, `INSERT INTO proposal_delegations (proposal_id, member_id, delegate_id) VALUES ($1, $2, $3)`, id, bea.id, ana.id)
	// A real proposal rewritten: its times, its rules, its change, its close, its roll, its ballots.
	for _, set := range []string{`created_at = created_at - interval '8 days'`, `deadline = created_at`, `rules = '{}'`, `field = 'plan'`,
		`change_value = '{"platformFeeBasisPoints":0}'`, `status = 'closed'`, `closed_at = now()`, `result = '{"passed":true}'`, `created_by = NULL`} {
		refused(denied, `UPDATE proposals SET `+set+` WHERE id = $1`, id)
	}
	refused(denied, `DELETE FROM proposals WHERE id = $1`, id)
	refused(denied, `DELETE FROM proposal_electorate WHERE proposal_id = $1 AND member_id = $2`, id, bea.id)
	refused(denied, `UPDATE proposal_electorate SET member_id = $2 WHERE proposal_id = $1 AND member_id = $3`, id, cus.id, bea.id)
	refused(check, `UPDATE proposal_electorate SET stakeholder_class = 'staff' WHERE proposal_id = $1`, id)
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), bea.token, map[string]any{"choice": "no"})
	refused(denied, `UPDATE ballots SET choice = 'yes' WHERE proposal_id = $1`, id)
	refused(denied, `DELETE FROM ballots WHERE proposal_id = $1`, id)
	// The clocks and the history of delegations are the owner's.
	refused(denied, `INSERT INTO governance_clock (pinned_at) VALUES (now() + interval '1 year')`)
	refused(denied, `UPDATE governance_clock SET pinned_at = pinned_at + interval '1 year'`)
	refused(denied, `INSERT INTO delegation_history (member_id, delegate_id, valid_from) VALUES ($1, $2, now())`, bea.id, ana.id)
	// Through the owner's functions: a period shorter than the rules' minimum, or a roll of
	// the caller's choosing (there is no way to name one).
	refused(check, `SELECT open_proposal('Fee to 0', '', 'feeSplit', '{"platformFeeBasisPoints":0}', NULL, $1, 1)`, rules)
	refused(check, `SELECT open_proposal('Fee to 0', '', 'feeSplit', '{"platformFeeBasisPoints":0}', NULL, NULL, 168)`)
	// A ballot of someone not on the roll, a choice of another model; the close before the
	// deadline while Ana has not voted.
	refused(check, `SELECT cast_ballot($1, $2, 'yes')`, id, cus.id)
	refused(check, `SELECT cast_ballot($1, $2, 'object')`, id, ana.id)
	refused(check, `SELECT close_proposal($1, '{"passed":true}', true)`, id)
	refused(check, `SELECT freeze_delegations($1, true)`, id)
	// Once past the deadline (by the database's clock), no ballot; the close is at the
	// deadline, whatever the caller says.
	e.clock.Step(7*24*time.Hour + time.Minute)
	refused(check, `SELECT cast_ballot($1, $2, 'yes')`, id, ana.id)
	var closedAt, deadline time.Time
	if err := db.QueryRow(ctx, `SELECT close_proposal($1, '{"passed":true}', true), (SELECT deadline FROM proposals WHERE id = $1)`, id).Scan(&closedAt, &deadline); err != nil {
		t.Fatal(err)
	}
	if !closedAt.Equal(deadline) {
		t.Errorf("closed at %s, want its deadline %s", closedAt, deadline)
	}
	refused(check, `SELECT close_proposal($1, '{"passed":false}', false)`, id)
	// Passed, its change waits for the operator: hidden from it by an answer of the
	// platform's own, it would never be applied while the members are told it was.
	for _, set := range []string{`application = 'applied'`, `application = 'refused'`, `application = ''`, `application_message = 'applied'`, `application_at = now()`} {
		refused(denied, `UPDATE proposals SET `+set+` WHERE id = $1`, id)
	}
	if pending, err := governance.PendingChanges(ctx, db, 10); err != nil || len(pending) != 1 || pending[0].ID != id {
		t.Errorf("pending changes %+v, %v: want proposal %d", pending, err, id)
	}
	var result string
	if err := db.QueryRow(ctx, `SELECT result::text FROM proposals WHERE id = $1`, id).Scan(&result); err != nil || result != `{"passed": true}` {
		t.Errorf("result %s, %v", result, err)
	}
}

// TestSecurity_AVoteOpensWithTheDatabasesClockAndRoll: a proposal opened through the
// database is stamped by its clock, its deadline at least the rules' minimum after, and
// its roll drawn from the members as they stand; a ballot is stamped by the database's
// clock too, one per member.
func TestSecurity_AVoteOpensWithTheDatabasesClockAndRoll(t *testing.T) {
	e := newEnv(t, withModel(t, policy.OneMemberOneVote, 50, 50))
	ana := e.worker("Ana Worker")
	e.worker("Bea Worker")
	e.customer("Cid Customer") // not a member who votes
	ctx := context.Background()
	db := e.s.Pool()
	rules, _ := json.Marshal(policy.Governance{Model: policy.OneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50, MinimumVotingPeriodHours: 24})
	var id int64
	if err := db.QueryRow(ctx, `SELECT open_proposal('A motion', '', '', NULL, $1, $2, 24)`, ana.id, rules).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var created, deadline time.Time
	var roll int64
	if err := db.QueryRow(ctx, `SELECT created_at, deadline, (SELECT count(*) FROM proposal_electorate WHERE proposal_id = p.id) FROM proposals p WHERE id = $1`, id).
		Scan(&created, &deadline, &roll); err != nil {
		t.Fatal(err)
	}
	if !created.Equal(e.clock.Now()) || deadline.Sub(created) != 24*time.Hour || roll != 2 {
		t.Fatalf("opened at %s (the clock %s), deadline %s, roll %d", created, e.clock.Now(), deadline, roll)
	}
	e.clock.Step(time.Hour)
	for _, c := range []string{"no", "yes"} {
		if _, err := db.Exec(ctx, `SELECT cast_ballot($1, $2, $3)`, id, ana.id, c); err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	var castAt time.Time
	if err := db.QueryRow(ctx, `SELECT count(*), max(cast_at) FROM ballots WHERE proposal_id = $1`, id).Scan(&n, &castAt); err != nil || n != 1 || !castAt.Equal(e.clock.Now()) {
		t.Fatalf("%d ballots cast at %s, %v", n, castAt, err)
	}
}

// TestTheOperatorsReTallyAgreesWithARealVote: a change voted through the API closes at its
// deadline pending, and the operator's reading of the database (governance.PendingChanges,
// LoadInput, Tally) finds the same result, open long enough.
func TestTheOperatorsReTallyAgreesWithARealVote(t *testing.T) {
	e := newEnv(t, withModel(t, policy.Delegate, 50, 50))
	m := e.workers(3)
	id := num(e.must(201, "POST", "/v1/proposals", m[0].token, map[string]any{"title": "Fee to 2%", "field": "feeSplit", "value": lowerFee})["id"])
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), m[0].token, map[string]any{"choice": "yes"})
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), m[1].token, map[string]any{"choice": "no"})
	e.must(200, "PUT", "/v1/delegation", m[2].token, map[string]any{"delegateId": m[0].id})
	e.clock.Step(7*24*time.Hour + time.Minute)
	e.must(200, "GET", "/v1/proposals", m[0].token, nil) // a read closes what is due
	ctx := context.Background()
	pending, err := governance.PendingChanges(ctx, e.s.Pool(), 10)
	if err != nil || len(pending) != 1 || pending[0].ID != id {
		t.Fatalf("pending %+v, %v", pending, err)
	}
	p := pending[0]
	in, err := governance.LoadInput(ctx, e.s.Pool(), p.Rules, p.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	notVoted, err := governance.NotVoted(ctx, e.s.Pool(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := governance.Tally(in)
	if !got.Passed || got.Classes[0].Yes != 2 || got.Classes[0].Delegated != 1 || got.ApprovalPercent != p.Result.ApprovalPercent ||
		!governance.OpenLongEnough(p, p.Rules.MinimumVotingPeriodHours, notVoted) {
		t.Fatalf("re-tally %+v of %+v", got, p)
	}
}

// TestTheDatabaseAndTheGoSideAgreeOnAVote: the owner's functions of migration 163 repeat
// two rules of the Go side, which must not drift apart: the longest voting period
// (policy.MaxVotingPeriodHours) and the choices of each model (governance.Choices). A
// period or a ballot the Go side takes, the database takes, and no other.
func TestTheDatabaseAndTheGoSideAgreeOnAVote(t *testing.T) {
	pol := withModel(t, policy.MultiStakeholder, 50, 50)
	e := newEnv(t, pol)
	class := pol.Governance.StakeholderClasses[0].Name
	ana := e.member("Ana Worker", []string{"worker"}, class)
	ctx := context.Background()
	db := e.s.Pool() // the serving role's
	for _, model := range policy.Models {
		g := pol.Governance
		g.Model = model
		if model != policy.MultiStakeholder {
			g.StakeholderClasses = nil
		}
		rules, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `SELECT open_proposal('Too long', '', '', NULL, $1, $2, $3)`, ana.id, rules, policy.MaxVotingPeriodHours+1); err == nil {
			t.Errorf("%s: a period of %d hours was taken, over policy.MaxVotingPeriodHours", model, policy.MaxVotingPeriodHours+1)
		}
		var id int64
		if err := db.QueryRow(ctx, `SELECT open_proposal('The longest', '', '', NULL, $1, $2, $3)`, ana.id, rules, policy.MaxVotingPeriodHours).Scan(&id); err != nil {
			t.Fatalf("%s: a period of policy.MaxVotingPeriodHours: %v", model, err)
		}
		for _, choice := range []string{governance.Yes, governance.No, governance.Abstain, governance.Object, "maybe"} {
			_, err := db.Exec(ctx, `SELECT cast_ballot($1, $2, $3)`, id, ana.id, choice)
			if want := governance.ValidChoice(model, choice); (err == nil) != want {
				t.Errorf("%s: the database's answer to a ballot %q: %v; the Go side takes it: %v", model, choice, err, want)
			}
		}
	}
}

// TestTheDatabaseAndTheGoSideAgreeOnAnEarlyClose: whether everyone on a proposal's roll
// has voted is written twice, in the database's proposal_closing (migration 163: it lets
// a proposal close before its deadline) and in governance.NotVotedSQL (staff's close, and
// the operator's OpenLongEnough). Before the deadline the database closes exactly when the
// Go side counts nobody left to vote, through the states a roll goes through: nobody
// voted, some did, a member who has not voted erased (no longer waited for), one who voted
// erased (their ballot stands), everyone voted.
func TestTheDatabaseAndTheGoSideAgreeOnAnEarlyClose(t *testing.T) {
	e := newEnv(t, withModel(t, policy.OneMemberOneVote, 50, 50))
	ana, bea, cid, dan := e.worker("Ana Worker"), e.worker("Bea Worker"), e.worker("Cid Worker"), e.worker("Dan Worker")
	id := num(e.must(201, "POST", "/v1/proposals", ana.token, map[string]any{"title": "Fee to 2%", "field": "feeSplit", "value": lowerFee})["id"])
	ctx := context.Background()
	db := e.s.Pool() // the serving role's
	agree := func(state string, wantLeft int64) {
		t.Helper()
		left, err := governance.NotVoted(ctx, db, id)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }() // only asked: nothing closes
		// freeze_delegations asks proposal_closing first, as a close does (the serving role
		// may call only the functions a vote goes through).
		_, closing := tx.Exec(ctx, `SELECT freeze_delegations($1, false)`, id)
		if left != wantLeft || (closing == nil) != (left == 0) {
			t.Errorf("%s: the Go side counts %d left to vote (want %d); the database's proposal_closing answers %v", state, left, wantLeft, closing)
		}
	}
	vote := func(w who, choice string) {
		t.Helper()
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), w.token, map[string]any{"choice": choice})
	}
	erase := func(w who) {
		t.Helper()
		if err := members.On(db).Erase(ctx, w.id); err != nil {
			t.Fatal(err)
		}
	}
	agree("nobody voted", 4)
	vote(ana, governance.Yes)
	vote(bea, governance.No)
	agree("two of four voted", 2)
	erase(cid)
	agree("a member who had not voted erased", 1)
	vote(dan, governance.Abstain)
	erase(dan)
	agree("everyone else voted, and one who voted erased", 0)
}
