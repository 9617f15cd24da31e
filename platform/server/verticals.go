package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/store/credentials"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

// normTerm is the form skills, care types and languages are compared in: trimmed, lower
// case.
func normTerm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Background check statuses; only clear lets a carer be offered care.
var checkStatuses = []string{"clear", "pending", "failed"}

const maxTerms = 50

// CredentialsInput is what staff verified about a worker (the members' app sends the
// same).
type CredentialsInput = credentials.Input

func normTerms(field string, in []string) ([]string, error) {
	if len(in) > maxTerms {
		return nil, badField(field, fmt.Sprintf("must hold at most %d entries", maxTerms))
	}
	out := []string{}
	for i, v := range in {
		n := normTerm(v)
		if n == "" || utf8.RuneCountInString(n) > 100 || strings.ContainsRune(n, 0) {
			return nil, badField(fmt.Sprintf("%s[%d]", field, i), "must be 1 to 100 characters")
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// SetCredentials records what staff verified about a worker: skills (matched against the
// service or care type a request asks for), languages, and the background check (care
// offers need a clear one that has not expired by the end of the work). It replaces what
// was recorded; errors name the field.
func (s *Server) SetCredentials(ctx context.Context, member int64, in CredentialsInput) (credentials.Credentials, error) {
	skills, err := normTerms("skills", in.Skills)
	if err != nil {
		return credentials.Credentials{}, err
	}
	langs, err := normTerms("languages", in.Languages)
	if err != nil {
		return credentials.Credentials{}, err
	}
	var check *credentials.BackgroundCheck
	if b := in.BackgroundCheck; b != nil {
		if !slices.Contains(checkStatuses, b.Status) {
			return credentials.Credentials{}, badField("backgroundCheck.status", "must be one of "+strings.Join(checkStatuses, ", "))
		}
		on, err := time.Parse(time.DateOnly, b.CheckedOn)
		if err != nil {
			return credentials.Credentials{}, badField("backgroundCheck.checkedOn", "must be a date like 2026-07-14")
		}
		if b.ExpiresAt.IsZero() {
			return credentials.Credentials{}, badField("backgroundCheck.expiresAt", "must be a time after checkedOn")
		}
		expires, err := requestTime("backgroundCheck.expiresAt", b.ExpiresAt, s.now())
		if err != nil {
			return credentials.Credentials{}, err
		}
		if !expires.After(on) {
			return credentials.Credentials{}, badField("backgroundCheck.expiresAt", "must be a time after checkedOn")
		}
		check = &credentials.BackgroundCheck{Status: b.Status, CheckedOn: b.CheckedOn, ExpiresAt: expires}
	}
	m, err := s.loadMember(ctx, member)
	if err != nil {
		return credentials.Credentials{}, err
	}
	if !slices.Contains(m.Roles, "worker") {
		return credentials.Credentials{}, conflict("skills", "only workers have verified skills")
	}
	// The offers the worker no longer fits (a skill, a language or the background check
	// taken away) are withdrawn with the change.
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockOffersTo(ctx, tx, member); err != nil {
			return err
		}
		// Then the member's row (the order of an erasure): a background check recorded
		// during their erasure waits for it and is refused, rather than kept after it.
		if _, err := lockKept(ctx, tx, member); err != nil {
			return err
		}
		if err := credentials.On(tx).Replace(ctx, member, skills, langs, check, s.now()); err != nil {
			return err
		}
		return s.withdrawOffersTo(ctx, tx, member, true)
	})
	if err != nil {
		return credentials.Credentials{}, err
	}
	return credentials.On(s.pool).Get(ctx, member)
}

func isStaff(p principal) bool { return p.admin || (p.active && p.hasRole("staff")) }

func (s *Server) putCredentials(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if !isStaff(p) {
		return 0, nil, forbidden("only staff record verified skills and background checks")
	}
	if !p.admin && id == p.memberID {
		return 0, nil, forbidden("staff do not certify themselves: another member of staff or the admin token records their credentials")
	}
	var in CredentialsInput
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	c, err := s.SetCredentials(r.Context(), id, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, c, nil
}

func (s *Server) getCredentials(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if !isStaff(p) && p.memberID != id {
		return 0, nil, forbidden("members may only act on their own data")
	}
	if _, err := s.loadMember(r.Context(), id); err != nil {
		return 0, nil, err
	}
	c, err := credentials.On(s.pool).Get(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, c, nil
}

// CredentialsPage is a page of the active workers with their credentials.
type CredentialsPage struct {
	Workers    []credentials.Worker `json:"workers"`
	NextCursor string               `json:"nextCursor,omitempty"`
}

// noCheck is a page's cursor's time after a worker without a background check: before
// the floor of the times the API takes (timeFloor), so no check's expiry.
var noCheck = time.Unix(0, -1).UTC()

// listCredentials lists the co-op's active workers with what staff verified about each
// (staff only: the background checks that expire first first, then the workers with
// none), for staff to see whose check to renew; a page at a time (limit, cursor).
func (s *Server) listCredentials(r *http.Request, p principal) (int, any, error) {
	if !isStaff(p) {
		return 0, nil, forbidden("only staff record verified skills and background checks")
	}
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	cur, err := decodeCursor(pg.Cursor)
	if err != nil {
		return 0, nil, err
	}
	after := credentials.After{ID: cur.ID}
	if cur.ID != 0 && !cur.At.Equal(noCheck) {
		after.Expires = &cur.At
	}
	ws, err := credentials.On(s.pool).ActiveWorkers(r.Context(), after, pg.Limit+1)
	if err != nil {
		return 0, nil, err
	}
	out := CredentialsPage{}
	out.Workers, out.NextCursor = trimPage(ws, pg, func(w credentials.Worker) work.Cursor {
		if w.BackgroundCheck == nil {
			return work.Cursor{At: noCheck, ID: w.MemberID}
		}
		return work.Cursor{At: w.BackgroundCheck.ExpiresAt, ID: w.MemberID}
	})
	return http.StatusOK, out, nil
}

// Team is a care client's team of regular carers, offered the client's work first.
type Team struct {
	WorkerIDs []int64 `json:"workerIds"`
}

// SetTeam replaces a client's team of regular workers (each must be a worker: 400 naming
// workerIds[i] otherwise). The team is offered the client's work first: a worker the
// client adds must have completed work of theirs (a regular worker, as one asked for by
// name: notRegular), those on the team already may stay; staff (byStaff) add any worker.
func (s *Server) SetTeam(ctx context.Context, client int64, t Team, byStaff bool) (Team, error) {
	if len(t.WorkerIDs) > 20 {
		return Team{}, badField("workerIds", "must hold at most 20 workers")
	}
	ids := []int64{}
	for _, id := range t.WorkerIDs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if _, err := s.loadMember(ctx, client); err != nil {
		return Team{}, err
	}
	found, err := credentials.On(s.pool).Workers(ctx, ids)
	if err != nil {
		return Team{}, err
	}
	for i, id := range t.WorkerIDs {
		if !slices.Contains(found, id) || id == client {
			return Team{}, badField(fmt.Sprintf("workerIds[%d]", i), "is not a worker of this co-op")
		}
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The client's and the workers' rows, in the order of their ids: a team set during
		// the erasure of any of them waits for it and is refused, rather than kept after it.
		for _, id := range slices.Sorted(slices.Values(append([]int64{client}, ids...))) {
			if _, err := lockKept(ctx, tx, id); err != nil {
				if id != client && errors.Is(err, errErased) {
					return badField(fmt.Sprintf("workerIds[%d]", slices.Index(t.WorkerIDs, id)), "is not a worker of this co-op")
				}
				return err
			}
		}
		if !byStaff {
			if err := regularTeam(ctx, tx, client, t.WorkerIDs); err != nil {
				return err
			}
		}
		return credentials.On(tx).SetTeam(ctx, client, ids, s.now())
	})
	if err != nil {
		return Team{}, err
	}
	got, err := credentials.On(s.pool).Team(ctx, client)
	return Team{WorkerIDs: got}, err
}

// regularTeam refuses (400 naming workerIds[i]) a worker the client adds to their team
// (in tx, whose locks hold the team and the client's work) who never completed work of
// theirs.
func regularTeam(ctx context.Context, tx pgx.Tx, client int64, workerIDs []int64) error {
	team, err := credentials.On(tx).Team(ctx, client)
	if err != nil {
		return err
	}
	did, err := work.On(tx).DidWorkFor(ctx, client, workerIDs)
	if err != nil {
		return err
	}
	for i, id := range workerIDs {
		if !slices.Contains(team, id) && !slices.Contains(did, id) {
			return badField(fmt.Sprintf("workerIds[%d]", i), "has not completed work of this client's: a client's team holds the workers who did (staff add any worker)")
		}
	}
	return nil
}

func (s *Server) putTeam(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	var in Team
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	t, err := s.SetTeam(r.Context(), id, in, p.admin)
	if err != nil {
		return 0, nil, asSelf(p, id, err)
	}
	return http.StatusOK, t, nil
}

func (s *Server) getTeam(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	ids, err := credentials.On(s.pool).Team(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, Team{WorkerIDs: ids}, nil
}

// RatingSummary is a worker's ratings as every member sees them: one per completed job,
// the distribution beside the average (matching never ranks by rating alone).
type RatingSummary struct {
	WorkerID     int64            `json:"workerId"`
	Count        int64            `json:"count"`
	Customers    int64            `json:"customers"`
	Average      string           `json:"average"`
	Distribution map[string]int64 `json:"distribution"`
}

// WorkerRatings reads a worker's rating distribution. Any id that is not a worker's (no
// member's, a customer's, an erased member's) is the same 404: ratings tell no one which
// ids are members.
func (s *Server) WorkerRatings(ctx context.Context, worker int64) (RatingSummary, error) {
	q := credentials.On(s.pool)
	if found, err := q.Workers(ctx, []int64{worker}); err != nil || len(found) == 0 {
		return RatingSummary{}, cmp.Or(err, notFound("worker"))
	}
	r, err := q.RatingsOf(ctx, worker)
	if err != nil {
		return RatingSummary{}, err
	}
	out := RatingSummary{WorkerID: worker, Count: r.Count, Customers: r.Customers, Distribution: map[string]int64{}}
	for i, n := range r.Distribution {
		out.Distribution[fmt.Sprint(i+1)] = n
	}
	if r.Count > 0 {
		out.Average = fmt.Sprintf("%d.%02d", r.AverageCenti/100, r.AverageCenti%100)
	}
	return out, nil
}

func (s *Server) getRatings(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	out, err := s.WorkerRatings(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}
