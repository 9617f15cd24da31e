package work

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Milestone is one milestone of a freelance project, paid when the client accepts it.
type Milestone struct {
	N           int    `json:"n"`
	Title       string `json:"title"`
	AmountCents int64  `json:"amountCents"`
	State       string `json:"state"`
	PaymentID   *int64 `json:"paymentId,omitempty"`
}

// AddMilestones records a project's milestones, numbered from 1 in order.
func (s Store) AddMilestones(ctx context.Context, workID int64, ms []Milestone) error {
	titles := make([]string, len(ms))
	amounts := make([]int64, len(ms))
	for i, m := range ms {
		titles[i], amounts[i] = m.Title, m.AmountCents
	}
	_, err := s.db.Exec(ctx, `INSERT INTO milestones (work_id, n, title, amount_cents)
		SELECT $1::bigint, n::int, t, a FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS u(t, a, n)`, workID, titles, amounts)
	return err
}

// Milestones reads a project's milestones in order.
func (s Store) Milestones(ctx context.Context, workID int64) ([]Milestone, error) {
	rows, err := s.db.Query(ctx, `SELECT n, title, amount_cents, state, payment_id FROM milestones WHERE work_id = $1 ORDER BY n`, workID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Milestone, error) {
		var m Milestone
		err := row.Scan(&m.N, &m.Title, &m.AmountCents, &m.State, &m.PaymentID)
		return m, err
	})
}

// SetMilestone sets a milestone's state and payment (store.ErrNotFound when there is no
// such milestone).
func (s Store) SetMilestone(ctx context.Context, workID int64, n int, state string, payment *int64) error {
	tag, err := s.db.Exec(ctx, `UPDATE milestones SET state = $3, payment_id = coalesce($4, payment_id) WHERE work_id = $1 AND n = $2`, workID, n, state, payment)
	if err == nil && tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return err
}
