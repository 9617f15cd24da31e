package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/availability"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

// Limits of a schedule.
const (
	maxWindows    = 70
	maxExceptions = 200
)

// WeeklyWindow is a window of a worker's weekly schedule, on the co-op's clock (in its
// time zone, spec.platform.timeZone; UTC when it names none): day (mon..sun), from and to
// as HH:MM (to may be 24:00), from before to. Monday 09:00 is 09:00 in summer and in
// winter.
type WeeklyWindow struct {
	Day  string `json:"day"`
	From string `json:"from"`
	To   string `json:"to"`
}

// ScheduleException is a dated exception to the weekly schedule: an extra shift
// (available) or a holiday (not available).
type ScheduleException struct {
	// ID is the exception's, in answers (to remove it by); a PUT ignores it.
	ID        int64     `json:"id,omitempty"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Available bool      `json:"available"`
}

// Schedule is a worker's availability: a weekly schedule plus exceptions, which win over
// it. A worker takes work on demand while the service's clock is in it, and scheduled
// work whose whole slot is in it (in weekly windows of its days, or in one available
// exception).
type Schedule struct {
	Weekly     []WeeklyWindow      `json:"weekly"`
	Exceptions []ScheduleException `json:"exceptions"`
	// TimeZone is the co-op's time zone, in which the weekly windows are read (an IANA
	// name; "UTC" when the co-op names none). The service's to say, not the member's.
	TimeZone string `json:"timeZone"`
}

// allWeek is the schedule the availability shortcut sets: every day, all day.
func allWeek() []WeeklyWindow {
	out := make([]WeeklyWindow, 0, 7)
	for _, d := range policy.Weekdays {
		out = append(out, WeeklyWindow{Day: d, From: "00:00", To: "24:00"})
	}
	return out
}

// minuteOf parses HH:MM (00:00..24:00) into minutes of the day.
func minuteOf(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 1440 {
		return 0, false
	}
	return hh*60 + mm, true
}

func formatMinute(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// validate checks a schedule and returns it in the store's form; errors name the field.
// An exception's times are a request's (requestTime).
func (sc Schedule) validate(now time.Time) (availability.Schedule, error) {
	var out availability.Schedule
	if len(sc.Weekly) > maxWindows {
		return out, badField("weekly", fmt.Sprintf("must hold at most %d windows", maxWindows))
	}
	if len(sc.Exceptions) > maxExceptions {
		return out, badField("exceptions", fmt.Sprintf("must hold at most %d exceptions", maxExceptions))
	}
	for i, w := range sc.Weekly {
		at := fmt.Sprintf("weekly[%d]", i)
		day := slices.Index(policy.Weekdays, w.Day)
		if day < 0 {
			return out, badField(at+".day", fmt.Sprintf("must be one of %s", strings.Join(policy.Weekdays, ", ")))
		}
		from, ok := minuteOf(w.From)
		if !ok || from == 1440 {
			return out, badField(at+".from", "must be a time of day HH:MM (00:00 to 23:59, on the co-op's clock)")
		}
		to, ok := minuteOf(w.To)
		if !ok {
			return out, badField(at+".to", "must be a time of day HH:MM (00:01 to 24:00, on the co-op's clock)")
		}
		if to <= from {
			return out, badField(at+".to", "must be after from")
		}
		for j, o := range out.Weekly {
			if o.Weekday == day+1 && o.From < to && from < o.To {
				return out, badField(at+".from", fmt.Sprintf("overlaps weekly[%d] on %s", j, w.Day))
			}
		}
		out.Weekly = append(out.Weekly, availability.Window{Weekday: day + 1, From: from, To: to})
	}
	for i, x := range sc.Exceptions {
		e, err := x.validate(fmt.Sprintf("exceptions[%d].", i), now)
		if err != nil {
			return out, err
		}
		out.Exceptions = append(out.Exceptions, e)
	}
	return out, nil
}

// validate checks an exception, its fields named after at, and returns it in the store's
// form: from is required, to after it as stored (to the microsecond), both a request's
// times (requestTime).
func (x ScheduleException) validate(at string, now time.Time) (availability.Exception, error) {
	if x.From.IsZero() {
		return availability.Exception{}, badField(at+"from", "is required (RFC 3339)")
	}
	from, errFrom := requestTime(at+"from", x.From, now)
	to, errTo := requestTime(at+"to", x.To, now)
	switch {
	case !to.After(from):
		return availability.Exception{}, badField(at+"to", "must be after from")
	case errFrom != nil:
		return availability.Exception{}, errFrom
	case errTo != nil:
		return availability.Exception{}, errTo
	}
	return availability.Exception{StartsAt: from, EndsAt: to, Available: x.Available}, nil
}

func scheduleOf(a availability.Schedule, zone *time.Location) Schedule {
	out := Schedule{Weekly: []WeeklyWindow{}, Exceptions: []ScheduleException{}, TimeZone: zone.String()}
	for _, w := range a.Weekly {
		out.Weekly = append(out.Weekly, WeeklyWindow{Day: policy.Weekdays[w.Weekday-1], From: formatMinute(w.From), To: formatMinute(w.To)})
	}
	for _, x := range a.Exceptions {
		out.Exceptions = append(out.Exceptions, ScheduleException{ID: x.ID, From: x.StartsAt.UTC(), To: x.EndsAt.UTC(), Available: x.Available})
	}
	return out
}

// WorkerSchedule reads a member's schedule.
func (s *Server) WorkerSchedule(ctx context.Context, member int64) (Schedule, error) {
	a, err := availability.On(s.pool).Get(ctx, member)
	if err != nil {
		return Schedule{}, err
	}
	return scheduleOf(a, s.location()), nil
}

// SetWorkerSchedule validates and replaces a member's schedule: only an active worker may
// declare availability (409 naming weekly otherwise). With keepExceptions, only the weekly
// windows change and the dated exceptions stay as they are (sc.Exceptions is not read).
// Otherwise its exceptions replace the member's, each time off as one added alone is
// (addScheduleException): refused over work the worker took (409 naming
// exceptions[i].from), and withdrawing the offers standing to them in it. The weekly
// windows withdraw no offer: an offer stands as it was made, for the minutes it stands
// (the worker declines it), whatever hours the worker keeps since; time off is the worker
// saying they cannot work then. It answers the stored schedule.
func (s *Server) SetWorkerSchedule(ctx context.Context, member int64, sc Schedule, keepExceptions bool) (Schedule, error) {
	if keepExceptions {
		sc.Exceptions = nil
	}
	a, err := sc.validate(s.now())
	if err != nil {
		return Schedule{}, err
	}
	m, err := s.loadMember(ctx, member)
	if err != nil {
		return Schedule{}, err
	}
	declares := len(a.Weekly) > 0 || slices.ContainsFunc(a.Exceptions, func(x availability.Exception) bool { return x.Available })
	if declares && (!m.Active || !slices.Contains(m.Roles, "worker")) {
		return Schedule{}, conflict("weekly", "only active workers can be available")
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		offered, active, err := lockSchedule(ctx, tx, member)
		if err != nil {
			return err
		}
		if declares && !active {
			return conflict("weekly", "only active workers can be available")
		}
		if keepExceptions {
			return availability.On(tx).ReplaceWeekly(ctx, member, a)
		}
		for i, x := range a.Exceptions {
			if err := freeForTimeOff(ctx, tx, member, x, fmt.Sprintf("exceptions[%d].from", i)); err != nil {
				return err
			}
		}
		if err := availability.On(tx).Replace(ctx, member, a); err != nil {
			return err
		}
		return s.withdrawOffersIn(ctx, tx, member, offered, a.Exceptions)
	})
	if err != nil {
		return Schedule{}, err
	}
	return s.WorkerSchedule(ctx, member)
}

// lockSchedule takes what a change of worker's schedule holds until tx ends, in the order
// of an accept (which takes the work, then the worker's row for update): the work offered
// to the worker, then their row (lockKept: a change sent during their erasure waits for it
// and is refused), then the row for update (work.LockWorker): an accept under way is
// waited for and its booking seen, and two changes of the schedule count one after the
// other. It answers the work offered to the worker and whether they are active.
func lockSchedule(ctx context.Context, tx pgx.Tx, worker int64) ([]Work, bool, error) {
	offered, err := work.On(tx).LockOfferedTo(ctx, worker)
	if err != nil {
		return nil, false, err
	}
	active, err := lockKept(ctx, tx, worker)
	if err != nil {
		return nil, false, err
	}
	if _, err := work.On(tx).LockWorker(ctx, worker); err != nil {
		return nil, false, err
	}
	return offered, active, nil
}

// freeForTimeOff refuses (409 naming field) time off x over work the worker took, which
// would leave its customer waiting: the work is done, or cancelled, first. An extra shift
// passes.
func freeForTimeOff(ctx context.Context, tx pgx.Tx, worker int64, x availability.Exception, field string) error {
	if x.Available {
		return nil
	}
	b, err := work.On(tx).Booked(ctx, worker, x.StartsAt, x.EndsAt, 0)
	if err == nil {
		return conflict(field, fmt.Sprintf("work %d is booked from %s to %s, within the time off: it is done, or cancelled, before the time off is taken",
			b.ID, b.StartsAt.UTC().Format(time.RFC3339), b.EndsAt.UTC().Format(time.RFC3339)))
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

func (s *Server) getSchedule(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.loadMember(r.Context(), id); err != nil {
		return 0, nil, err
	}
	sc, err := s.WorkerSchedule(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sc, nil
}

func (s *Server) putSchedule(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Weekly []WeeklyWindow `json:"weekly"`
		// Exceptions left out stay as they are; given (an empty list too), they replace
		// the member's.
		Exceptions *[]ScheduleException `json:"exceptions"`
		// TimeZone, when sent back as read, must be the co-op's: weekly hours written for
		// another zone are refused rather than read in the co-op's.
		TimeZone *string `json:"timeZone"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if zone := s.location().String(); in.TimeZone != nil && *in.TimeZone != zone {
		return 0, nil, badField("timeZone", fmt.Sprintf("weekly hours are on the co-op's clock, in %s; leave timeZone out or send %s", zone, zone))
	}
	sc := Schedule{Weekly: in.Weekly}
	if in.Exceptions != nil {
		sc.Exceptions = *in.Exceptions
	}
	sc, err = s.SetWorkerSchedule(r.Context(), id, sc, in.Exceptions == nil)
	if err != nil {
		return 0, nil, asSelf(p, id, err)
	}
	return http.StatusOK, sc, nil
}

// addScheduleException adds one dated exception to a worker's schedule (self or staff):
// time off, or an extra shift. The weekly windows and the other exceptions stay as they
// are, whatever was written since the client read them.
func (s *Server) addScheduleException(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	var in ScheduleException
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	x, err := in.validate("", s.now())
	if err != nil {
		return 0, nil, err
	}
	m, err := s.loadMember(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	if x.Available && (!m.Active || !slices.Contains(m.Roles, "worker")) {
		return 0, nil, conflict("available", "only active workers can be available")
	}
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		offered, active, err := lockSchedule(r.Context(), tx, id)
		if err != nil {
			return err
		}
		if x.Available && !active {
			return conflict("available", "only active workers can be available")
		}
		if err := freeForTimeOff(r.Context(), tx, id, x, "from"); err != nil {
			return err
		}
		_, added, err := availability.On(tx).AddException(r.Context(), id, x, maxExceptions)
		if err != nil {
			return err
		}
		if !added {
			return conflict("exceptions", fmt.Sprintf("the schedule holds %d exceptions, the most it may: remove one first", maxExceptions))
		}
		return s.withdrawOffersIn(r.Context(), tx, id, offered, []availability.Exception{x})
	})
	if err != nil {
		return 0, nil, asSelf(p, id, err)
	}
	sc, err := s.WorkerSchedule(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, sc, nil
}

// removeScheduleException removes one of a worker's dated exceptions (self or staff).
func (s *Server) removeScheduleException(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	xid, err := pathID(r, "exceptionId")
	if err != nil {
		return 0, nil, err
	}
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		if _, err := lockKept(r.Context(), tx, id); err != nil {
			return err
		}
		err := availability.On(tx).RemoveException(r.Context(), id, xid)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("exception")
		}
		return err
	})
	if err != nil {
		return 0, nil, asSelf(p, id, err)
	}
	sc, err := s.WorkerSchedule(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sc, nil
}

// withdrawOffersIn withdraws the offers to worker, of the work items offered (locked by the
// caller, lockSchedule), whose time falls in one of the time off among exceptions
// (scheduled work whose slot overlaps it; work on demand when the service's clock is in
// it), and moves each on (withdrawOffer): the worker said they cannot work then. An order
// is its listing's maker's and stays.
func (s *Server) withdrawOffersIn(ctx context.Context, tx pgx.Tx, worker int64, offered []Work, exceptions []availability.Exception) error {
	now := s.now()
	var pol *policy.Policy
	for i := range offered {
		w := &offered[i]
		in := slices.ContainsFunc(exceptions, func(x availability.Exception) bool {
			if x.Available {
				return false
			}
			if w.StartsAt != nil && w.EndsAt != nil {
				return w.StartsAt.Before(x.EndsAt) && w.EndsAt.After(x.StartsAt)
			}
			return !now.Before(x.StartsAt) && now.Before(x.EndsAt)
		})
		if !in || isOrder(w) {
			continue
		}
		if pol == nil {
			var err error
			if pol, err = s.currentPolicy(); err != nil {
				return err
			}
		}
		if err := s.withdrawOffer(ctx, tx, pol, w, worker, withdrawnTimeOff); err != nil {
			return err
		}
	}
	return nil
}
