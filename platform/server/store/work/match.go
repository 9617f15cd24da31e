package work

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/dayclock"
	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Match is what a choice of workers is for.
type Match struct {
	Kind               string
	CustomerID, WorkID int64
	// Now is the service's clock: offers that expired before it no longer make a worker
	// busy, and work done on demand needs a worker available at Now.
	Now time.Time
	// StartsAt and EndsAt are the slot of scheduled work: the worker must be available for
	// all of it and hold no offer or booking that overlaps it. Nil for work on demand.
	StartsAt, EndsAt *time.Time
	// Limit is how many workers to choose (1, or the fan-out of urgent work).
	Limit int
	// Only restricts the choice to this worker (a request for a regular worker).
	Only *int64
	// Skill, when set, must be one of the worker's skills staff verified (the service or
	// care type asked for), and Language one of their verified languages.
	Skill, Language *string
	// Zone is the co-op's time zone, in which the weekly windows are read (nil: UTC).
	Zone *time.Location
	// NeedsCheck requires a clear background check that has not expired by the end of the
	// work (care).
	NeedsCheck bool
	// TeamFirst offers the customer's team of regular workers (care_teams) first.
	TeamFirst bool
	// Shared says the work does not take its worker's time exclusively (a gig, an order):
	// done on demand, no other work makes a worker busy for it. SharedKinds are the kinds
	// of such work, which make nobody busy for other work on demand.
	Shared      bool
	SharedKinds []string
}

// span is the part of a slot that falls on one ISO weekday, in seconds of that day's
// clock.
type span struct {
	weekday        int // 0: no such part
	fromSec, toSec int64
}

// daySpans splits [s, e) (at most a day long) into its parts on one or two days of the
// clock of loc, in seconds of each day's clock, for the quick test of one weekly window:
// ok is false when the slot's clock is not one steady count of seconds (it reaches a
// change of loc's offset, such as the start or end of summer time, or it touches a third
// day), and the quick test is then skipped for the exact one (dayclock.Days).
func daySpans(s, e time.Time, loc *time.Location) (first, second span, ok bool) {
	if !dayclock.Steady(s, e, loc) {
		return span{}, span{}, false
	}
	s, e = s.In(loc), e.In(loc)
	sy, sm, sd := s.Date()
	ey, em, ed := e.Date()
	next := time.Date(sy, sm, sd+1, 0, 0, 0, 0, time.UTC)
	first = span{weekday: isoWeekday(s), fromSec: clockSec(s)}
	switch eDay := time.Date(ey, em, ed, 0, 0, 0, 0, time.UTC); {
	case eDay.Equal(time.Date(sy, sm, sd, 0, 0, 0, 0, time.UTC)):
		first.toSec = clockSecUp(e)
		return first, span{}, true
	case eDay.Equal(next):
		first.toSec = 86400
		if up := clockSecUp(e); up > 0 {
			second = span{weekday: isoWeekday(e), toSec: up}
		}
		return first, second, true
	}
	return span{}, span{}, false
}

// clockSec is t's time of day in seconds of its clock; clockSecUp rounds up a fraction.
func clockSec(t time.Time) int64 {
	return int64(t.Hour()*3600 + t.Minute()*60 + t.Second())
}

func clockSecUp(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return clockSec(t) + 1
	}
	return clockSec(t)
}

func isoWeekday(t time.Time) int {
	if d := int(t.Weekday()); d != 0 {
		return d
	}
	return 7
}

// NextWorkers chooses up to m.Limit workers by the fair-matching rule and locks them
// (store.ErrNotFound when nobody fits). The rule, in order: the least recently assigned
// worker first (never-assigned workers before all others; a worker is assigned when they
// accept work, Assigned), then the higher average
// rating (unrated counts as 0), then the lower member id. Candidates are active members
// with the worker role, qualified for the kind of work, not the customer, not blocked by
// the customer, not offered this work in this round (declined, expired or still open; a
// round ends when the work goes back to requested, EndRound), available
// by their weekly schedule and its exceptions (for all of a scheduled slot, or at Now for
// work on demand), and not busy: for work on demand, no standing offer of other work on
// demand and no accepted or started job under way now, work that takes no worker's time
// exclusively (SharedKinds: gigs, orders) aside, and none of it at all for such work; for
// scheduled work (a stay too), no standing offer or booking whose slot overlaps.
func (s Store) NextWorkers(ctx context.Context, m Match) ([]Candidate, error) {
	start, end, scheduled := m.Now, m.Now.Add(time.Second), false
	if m.StartsAt != nil && m.EndsAt != nil {
		start, end, scheduled = *m.StartsAt, *m.EndsAt, true
	}
	zone := m.Zone
	if zone == nil {
		zone = time.UTC
	}
	first, second, _ := daySpans(start, end, zone) // not ok: zero spans, which no window meets
	limit := max(m.Limit, 1)
	// Busy: for scheduled work, a standing offer or a booking whose slot overlaps; for
	// work on demand, a standing offer of other work on demand, or a job under way now.
	busy := `AND NOT EXISTS (SELECT 1 FROM offers o JOIN work_items x ON x.id = o.work_id
			WHERE o.worker_id = m.id AND o.status = 'offered' AND o.work_id <> $3 AND (o.expires_at IS NULL OR o.expires_at > $4)
			  AND x.starts_at < $6 AND x.ends_at > $5)
		  AND NOT EXISTS (SELECT 1 FROM work_items x
			WHERE x.worker_id = m.id AND x.state IN ('accepted', 'in_progress') AND x.starts_at IS NOT NULL
			  AND x.starts_at < $6 AND x.ends_at > $5 AND x.id <> $3)`
	// Only the conditions a match needs are in its SQL (fewer subqueries to plan).
	args := []any{m.Kind, m.CustomerID, m.WorkID, m.Now, start, end,
		first.weekday, first.fromSec, first.toSec, second.weekday, second.toSec, limit}
	extra := ""
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	switch {
	case !scheduled && m.Shared:
		// Work alongside other work: nobody is busy for it. The clock ($4) is read by nothing
		// else of this match: it is typed here, or the query would not say its type.
		busy = `AND $4::timestamptz IS NOT NULL`
	case !scheduled:
		// Few workers are busy at once: one set, hashed once per query. Work that takes
		// no worker's time exclusively (SharedKinds) makes nobody busy.
		shared := arg(append([]string{}, m.SharedKinds...))
		busy = `AND m.id NOT IN (SELECT o.worker_id FROM offers o JOIN work_items x ON x.id = o.work_id
			WHERE o.status = 'offered' AND o.work_id <> $3 AND (o.expires_at IS NULL OR o.expires_at > $4) AND x.starts_at IS NULL
			  AND x.kind <> ALL (` + shared + `::text[]))
		  AND m.id NOT IN (SELECT x.worker_id FROM work_items x
			WHERE x.worker_id IS NOT NULL AND x.state IN ('accepted', 'in_progress') AND x.id <> $3 AND x.kind <> ALL (` + shared + `::text[])
			  AND (x.starts_at IS NULL OR x.state = 'in_progress' OR (x.starts_at < $6 AND x.ends_at > $5)))`
	}
	if m.Only != nil {
		extra += ` AND m.id = ` + arg(*m.Only) + `::bigint`
	}
	extra += credentialsFit(m, arg, "$6")
	// One window or one extra shift covers most slots (the EXISTS above, cheap); else the
	// slot may still lie within their union: two adjacent windows, a window and an extra
	// shift that follows it. The windows on the dates the slot touches, read on the co-op's
	// clock (a window's minutes are the clock's: Monday 09:00 is 09:00 in summer and in
	// winter; the instants of each day's clock are computed here, dayclock.Day, so the database
	// needs no time zone of its own), and the extra shifts that overlap it, merged into one
	// multirange, must contain the slot.
	var bases []time.Time
	var weekdays, changes, shifts []int32
	for _, d := range dayclock.Days(start, end, zone) {
		bases, weekdays, changes, shifts = append(bases, d.Base), append(weekdays, d.Weekday), append(changes, d.Change), append(shifts, d.Shift)
	}
	days := `JOIN unnest(` + arg(bases) + `::timestamptz[], ` + arg(weekdays) + `::int[], ` + arg(changes) + `::int[], ` + arg(shifts) + `::int[])
			    AS d(base, weekday, change, shift) ON a.weekday = d.weekday`
	covered := `(SELECT range_agg(u.r) FROM (
			SELECT tstzrange(d.base + a.from_minute * interval '1 minute', d.base + least(a.to_minute * 60, d.change) * interval '1 second') AS r
			  FROM availability_windows a ` + days + `
			 WHERE a.member_id = m.id AND a.from_minute * 60 < d.change
			UNION ALL SELECT tstzrange(d.base + (greatest(a.from_minute * 60, d.change + d.shift) - d.shift) * interval '1 second',
			                           d.base + (a.to_minute * 60 - d.shift) * interval '1 second')
			  FROM availability_windows a ` + days + `
			 WHERE a.member_id = m.id AND a.to_minute * 60 > greatest(a.from_minute * 60, d.change + d.shift)
			UNION ALL SELECT tstzrange(x.starts_at, x.ends_at) FROM availability_exceptions x
			 WHERE x.member_id = m.id AND x.available AND x.starts_at < $6 AND x.ends_at > $5) u) @> tstzrange($5, $6)`
	order, regular := "", "false"
	if m.TeamFirst {
		regular = `EXISTS (SELECT 1 FROM care_teams t WHERE t.client_id = $2 AND t.worker_id = m.id)`
		order = regular + ` DESC, `
	}
	rows, err := s.db.Query(ctx, `SELECT m.id, m.last_assigned_at, m.rating_count,
			`+regular+` AS regular,
			CASE WHEN m.rating_count = 0 THEN 0 ELSE m.rating_sum * 100 / m.rating_count END AS rating_centi
		FROM members m
		WHERE m.active AND m.available AND 'worker' = ANY (m.roles) AND m.erased_at IS NULL
		  AND `+standingFit+`
		  AND m.id NOT IN (SELECT o.worker_id FROM offers o WHERE o.work_id = $3 AND o.status <> 'withdrawn' AND NOT o.past_round)
		  AND m.id NOT IN (SELECT x.member_id FROM availability_exceptions x WHERE NOT x.available AND x.starts_at < $6 AND x.ends_at > $5)
		  AND (EXISTS (SELECT 1 FROM availability_windows a
				WHERE a.member_id = m.id AND a.weekday = $7 AND a.from_minute * 60 <= $8 AND $9 <= a.to_minute * 60
				  AND ($10 = 0 OR EXISTS (SELECT 1 FROM availability_windows a2
					WHERE a2.member_id = m.id AND a2.weekday = $10 AND a2.from_minute = 0 AND $11 <= a2.to_minute * 60))
			UNION ALL SELECT 1 FROM availability_exceptions x
				WHERE x.member_id = m.id AND x.available AND x.starts_at <= $5 AND x.ends_at >= $6)
			OR `+covered+`)
		  `+busy+extra+`
		ORDER BY `+order+`m.last_assigned_at ASC NULLS FIRST, rating_centi DESC, m.id ASC
		LIMIT $12 FOR NO KEY UPDATE OF m SKIP LOCKED`, args...)
	if err != nil {
		return nil, err
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Candidate, error) {
		var c Candidate
		err := row.Scan(&c.ID, &c.LastAssignedAt, &c.RatingCount, &c.Regular, &c.RatingCenti)
		return c, err
	})
	if err == nil && len(cs) == 0 {
		err = store.ErrNotFound
	}
	return cs, err
}

// standingFit is what makes a worker fit for a kind of work whatever its time: qualified
// for the kind ($1), not its customer ($2), not blocked by them. NextWorkers and Fits
// share it, with the verified skill, language and background check of credentialsFit.
const standingFit = `$1 = ANY (m.qualifications) AND m.id <> $2
		  AND m.id NOT IN (SELECT b.worker_id FROM blocks b WHERE b.customer_id = $2)`

// credentialsFit is the part of a match that staff verify: the skill and the language
// asked for, a clear background check that has not expired by end (a parameter). arg adds
// a query argument and names it.
func credentialsFit(m Match, arg func(any) string, end string) string {
	out := ""
	if m.Skill != nil {
		out += ` AND EXISTS (SELECT 1 FROM worker_skills k WHERE k.member_id = m.id AND k.kind = 'skill' AND k.value = ` + arg(*m.Skill) + `::text)`
	}
	if m.Language != nil {
		out += ` AND EXISTS (SELECT 1 FROM worker_skills k WHERE k.member_id = m.id AND k.kind = 'language' AND k.value = ` + arg(*m.Language) + `::text)`
	}
	if m.NeedsCheck {
		out += ` AND EXISTS (SELECT 1 FROM background_checks c WHERE c.member_id = m.id AND c.status = 'clear' AND c.expires_at >= ` + end + `)`
	}
	return out
}

// Fits says whether worker still meets what the work of m needs whatever its time (the
// kind among their qualifications, the customer's blocks, the verified skill, language and
// background check): what an offer made earlier relied on, and a change of the worker's
// or a block since may have taken away. Their schedule and other work are not judged: an
// accept checks the bookings itself (Booked).
func (s Store) Fits(ctx context.Context, m Match, worker int64) (bool, error) {
	end := m.Now.Add(time.Second)
	if m.EndsAt != nil {
		end = *m.EndsAt
	}
	args := []any{m.Kind, m.CustomerID, worker}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	endArg := ""
	if m.NeedsCheck {
		endArg = arg(end) // a parameter the query does not use would have no type
	}
	var fits bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members m WHERE m.id = $3::bigint AND `+standingFit+credentialsFit(m, arg, endArg)+`)`,
		args...).Scan(&fits)
	return fits, err
}

// Offer records an offer of the work to worker, with the reason and the time it expires
// (nil: never). An offer does not move the worker back in the fair-matching order: one
// withdrawn or cancelled (which a customer can make and cancel at will) is no turn taken.
// Assigned does, when they accept, and Passed when they decline (ExpireOffers when they let
// it expire).
//
// fairTurn says the fair-matching order made it: a worker who declines it or lets it
// expire has had their turn (Passed, ExpireOffers). One a customer asked for by name, or an
// order sent to its maker, is none.
func (s Store) Offer(ctx context.Context, workID, worker int64, reason string, expiresAt *time.Time, fairTurn bool) error {
	_, err := s.db.Exec(ctx, `INSERT INTO offers (work_id, worker_id, reason, expires_at, fair_turn) VALUES ($1, $2, $3, $4, $5)`,
		workID, worker, reason, expiresAt, fairTurn)
	return err
}

// Assigned marks worker as assigned at at (the service's clock): they took work, and go
// behind those who took none since in the fair-matching order (NextWorkers). A worker who
// declines an offer, or lets it expire, had their turn too and is marked so (Passed); one
// whose offer the customer withdrew or cancelled is not, so no customer moves a worker back.
func (s Store) Assigned(ctx context.Context, worker int64, at time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE members SET last_assigned_at = $2 WHERE id = $1`, worker, at)
	return err
}

// Passed marks worker as having had their turn at at when they declined the work's offer
// and the fair-matching order made it (Offer's fairTurn); nothing otherwise.
func (s Store) Passed(ctx context.Context, workID, worker int64, at time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE members SET last_assigned_at = GREATEST(last_assigned_at, $3) WHERE id = $2
		AND EXISTS (SELECT 1 FROM offers WHERE work_id = $1 AND worker_id = $2 AND status = 'declined' AND fair_turn)`, workID, worker, at)
	return err
}

// EndRound ends the round of matching of the work, which went back to requested with
// nobody left to offer it to: the next match starts a new one, in which the workers
// offered it before may be offered it again (NextWorkers).
func (s Store) EndRound(ctx context.Context, workID int64) error {
	_, err := s.db.Exec(ctx, `UPDATE offers SET past_round = true WHERE work_id = $1 AND NOT past_round`, workID)
	return err
}

// StandingOffers counts the work's open offers that have not expired at now.
func (s Store) StandingOffers(ctx context.Context, workID int64, now time.Time) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM offers WHERE work_id = $1 AND status = 'offered' AND (expires_at IS NULL OR expires_at > $2)`,
		workID, now).Scan(&n)
	return n, err
}

// ExpireOffers marks the work's open offers that expired at now as expired and returns
// how many it marked.
func (s Store) ExpireOffers(ctx context.Context, workID int64, now time.Time) (int64, error) {
	// A worker who let an offer of the fair order pass had their turn: they go behind those
	// offered nothing since (as one who declines, see Passed), or they would be offered
	// first for ever.
	var n int64
	err := s.db.QueryRow(ctx, `WITH expired AS (
			UPDATE offers SET status = 'expired' WHERE work_id = $1 AND status = 'offered' AND expires_at <= $2 RETURNING worker_id, fair_turn),
		passed AS (UPDATE members SET last_assigned_at = GREATEST(last_assigned_at, $2)
			WHERE id IN (SELECT worker_id FROM expired WHERE fair_turn) RETURNING 1)
		SELECT count(*) FROM expired`, workID, now).Scan(&n)
	return n, err
}

// DueExpiries lists up to limit work items with an open offer that expired at now.
func (s Store) DueExpiries(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT work_id FROM offers WHERE status = 'offered' AND expires_at <= $1 ORDER BY work_id LIMIT $2`, now, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// LockOfferedTo locks, in id order, the work items holding an open offer to worker (one
// past its time that was not moved on yet too) and reads them.
func (s Store) LockOfferedTo(ctx context.Context, worker int64) ([]Work, error) {
	rows, err := s.db.Query(ctx, `SELECT `+cols+` FROM work_items
		WHERE id IN (SELECT work_id FROM offers WHERE worker_id = $1 AND status = 'offered') ORDER BY id FOR UPDATE`, worker)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Work, error) { return scan(row) })
}

// TakenBy counts the work worker took and has not finished: accepted or started.
func (s Store) TakenBy(ctx context.Context, worker int64) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM work_items WHERE worker_id = $1 AND state IN ('accepted', 'in_progress')`, worker).Scan(&n)
	return n, err
}

// WithdrawOthers withdraws the work's open offers to anyone but worker (urgent work that
// worker took).
func (s Store) WithdrawOthers(ctx context.Context, workID, worker int64) error {
	_, err := s.db.Exec(ctx, `UPDATE offers SET status = 'withdrawn' WHERE work_id = $1 AND worker_id <> $2 AND status = 'offered'`, workID, worker)
	return err
}

// LockWorker locks a worker's member row until the transaction ends, so that their
// bookings are checked and written one at a time and their activity, roles and erasure
// cannot change under an accept, and reads whether they may take work: active, not
// erased, holding the worker role (store.ErrNotFound when there is no such member). The
// lock (FOR NO KEY UPDATE) waits for a change of the member and makes one wait, as a
// second accept of theirs; it does not hold up the foreign-key checks of rows that refer
// to the member (a payment to them, an offer, a history entry).
func (s Store) LockWorker(ctx context.Context, worker int64) (mayWork bool, err error) {
	err = s.db.QueryRow(ctx, `SELECT active AND erased_at IS NULL AND 'worker' = ANY (roles) FROM members WHERE id = $1 FOR NO KEY UPDATE`,
		worker).Scan(&mayWork)
	return mayWork, store.NotFound(err)
}

// Booked reads worker's accepted or started scheduled work, other than the work except,
// whose slot overlaps [from, to) (store.ErrNotFound when none does).
func (s Store) Booked(ctx context.Context, worker int64, from, to time.Time, except int64) (Work, error) {
	w, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+` FROM work_items
		WHERE worker_id = $1 AND state IN ('accepted', 'in_progress') AND starts_at < $3 AND ends_at > $2 AND id <> $4
		ORDER BY starts_at LIMIT 1`, worker, from, to, except))
	return w, store.NotFound(err)
}

// OfferStatus reads the status of worker's latest offer of the work and when it expires;
// store.ErrNotFound when they were never offered it.
func (s Store) OfferStatus(ctx context.Context, workID, worker int64) (string, *time.Time, error) {
	var status string
	var exp *time.Time
	err := s.db.QueryRow(ctx, `SELECT status, expires_at FROM offers WHERE work_id = $1 AND worker_id = $2 ORDER BY id DESC LIMIT 1`,
		workID, worker).Scan(&status, &exp)
	return status, exp, store.NotFound(err)
}
