package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

const maxMilestones = 20

// MilestoneInput is a milestone of a freelance project as requested.
type MilestoneInput struct {
	Title       string `json:"title"`
	AmountCents int64  `json:"amountCents"`
}

// paidByMilestones says whether work of kind may be a project paid by milestones.
func paidByMilestones(kind string) bool { return kind == "gig" }

// validateMilestones checks a project's milestones: gigs only, 1 to maxMilestones, each
// titled and positive, adding up to the price exactly, without surge.
func validateMilestones(in *workInput) ([]work.Milestone, error) {
	if in.Milestones == nil {
		return nil, nil
	}
	if !paidByMilestones(in.Kind) {
		return nil, badField("milestones", "only freelance gigs have milestones")
	}
	if len(in.Milestones) < 1 || len(in.Milestones) > maxMilestones {
		return nil, badField("milestones", fmt.Sprintf("a project has 1 to %d milestones", maxMilestones))
	}
	if in.SurgeCents != nil && *in.SurgeCents != 0 {
		return nil, badField("surgeCents", "a project paid by milestones has no surge")
	}
	var sum int64
	out := make([]work.Milestone, 0, len(in.Milestones))
	for i, m := range in.Milestones {
		t := strings.TrimSpace(m.Title)
		if t == "" || utf8.RuneCountInString(t) > 200 || strings.ContainsRune(t, 0) {
			return nil, badField(fmt.Sprintf("milestones[%d].title", i), "must be 1 to 200 characters")
		}
		if m.AmountCents <= 0 || m.AmountCents > 1_000_000_000_000 {
			return nil, badField(fmt.Sprintf("milestones[%d].amountCents", i), "must be a positive integer")
		}
		sum += m.AmountCents
		out = append(out, work.Milestone{N: i + 1, Title: t, AmountCents: m.AmountCents, State: "open"})
	}
	if in.PriceCents != nil && sum != *in.PriceCents {
		return nil, badField("milestones", fmt.Sprintf("must add up to priceCents (%d), not %d", *in.PriceCents, sum))
	}
	return out, nil
}

// milestoneAction runs a step of milestone n of project id: submit by its worker, accept
// by its client (which pays the milestone, and completes the project with its last one).
func (s *Server) milestoneAction(r *http.Request, p principal, accept bool) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	n, err := pathID(r, "n")
	if err != nil {
		return 0, nil, err
	}
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	var pay *Payment
	status, body, err := s.changeWork(r.Context(), p, id, func(tx pgx.Tx, w *Work) (any, error) {
		isWorker := w.WorkerID != nil && *w.WorkerID == p.memberID
		if !p.admin && !isWorker && w.CustomerID != p.memberID {
			return nil, notFound("work")
		}
		if accept && !p.admin && w.CustomerID != p.memberID {
			return nil, forbidden("only the client accepts a milestone")
		}
		if !accept && !p.admin && !isWorker {
			return nil, forbidden("only the worker on this project submits a milestone")
		}
		q := work.On(tx)
		ms, err := q.Milestones(r.Context(), w.ID)
		if err != nil {
			return nil, err
		}
		if n > int64(len(ms)) {
			return nil, notFound("milestone")
		}
		m := ms[n-1]
		if w.State != stInProgress {
			return nil, conflict("state", fmt.Sprintf("milestones move while the project is in progress, not %s", w.State))
		}
		if !accept {
			if m.State != "open" {
				return nil, conflict("state", fmt.Sprintf("milestone %d is %s", n, m.State))
			}
			if err := q.SetMilestone(r.Context(), w.ID, int(n), "submitted", nil); err != nil {
				return nil, err
			}
		} else {
			if m.State != "submitted" {
				return nil, conflict("state", fmt.Sprintf("milestone %d is %s; the worker submits it first", n, m.State))
			}
			// Staff accept milestones only of a project whose whole price is within their
			// limit: one milestone at a time within it would let staff alone pay any
			// amount, split into milestones (as completeWork's check says of work).
			if p.admin {
				if err := staffMayMove(pol, "priceCents", w.PriceCents, "accept milestones of projects", "the client accepts them"); err != nil {
					return nil, err
				}
			}
			req := paymentRequest{WorkerID: *w.WorkerID, AmountCents: m.AmountCents, WorkID: &w.ID, PayerID: &w.CustomerID}
			pay, _, err = s.recordPayment(r.Context(), tx, pol, workScope, fmt.Sprintf("work-%d-milestone-%d", w.ID, n), req)
			if err != nil {
				return nil, err
			}
			if err := q.SetMilestone(r.Context(), w.ID, int(n), "accepted", &pay.ID); err != nil {
				return nil, err
			}
			if err := s.completeIfDone(r.Context(), tx, w, p); err != nil {
				return nil, err
			}
		}
		w.Milestones, err = q.Milestones(r.Context(), w.ID)
		return *w, err
	})
	if err == nil && pay != nil {
		s.countPayment(pay.Split, "payment")
	}
	return status, body, err
}

// completeIfDone completes a project whose milestones are all accepted.
func (s *Server) completeIfDone(ctx context.Context, tx pgx.Tx, w *Work, p principal) error {
	ms, err := work.On(tx).Milestones(ctx, w.ID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.State != "accepted" {
			return nil
		}
	}
	return setState(ctx, tx, w, stCompleted, w.WorkerID, p, "last milestone accepted: every milestone is paid")
}

func (s *Server) submitMilestone(r *http.Request, p principal) (int, any, error) {
	return s.milestoneAction(r, p, false)
}

func (s *Server) acceptMilestone(r *http.Request, p principal) (int, any, error) {
	return s.milestoneAction(r, p, true)
}

// hasMilestones reports whether a work item is a project paid by milestones.
func hasMilestones(ctx context.Context, db store.DBTX, id int64) (bool, error) {
	ms, err := work.On(db).Milestones(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return len(ms) > 0, err
}
