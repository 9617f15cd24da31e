package work

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Involving reads the work items a member requested or works on, newest first: those
// with an id below before (0: from the newest), at most limit, in one query. The members'
// app lists them on the member's own pages; the member is the signed-in one, so the query
// itself is the rule of who sees them (a subset of whom the API's read of a work item
// shows it to: its customer, its worker, a worker holding a standing offer of it, staff).
// Work offered to the member is not theirs yet: their offers are listed from the feed of
// standing ones (WorkerOffers).
func (s Store) Involving(ctx context.Context, member, before int64, limit int) ([]Work, error) {
	rows, err := s.db.Query(ctx, `SELECT `+cols+`, EXISTS (SELECT 1 FROM milestones m WHERE m.work_id = work_items.id)
		FROM work_items WHERE (customer_id = $1 OR (worker_id = $1 AND state <> 'offered'))
		AND ($2::bigint = 0 OR id < $2::bigint)
		ORDER BY id DESC LIMIT $3`, member, before, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Work, error) {
		var milestones bool
		w, err := scan(row, &milestones)
		w.PaidByMilestones = milestones
		return w, err
	})
}

// WorkerCount is a worker and how many of a customer's work items they completed.
type WorkerCount struct {
	WorkerID int64
	Done     int
}

// CompletedFor lists the workers who completed work for customer, with how many items each
// did, the most recent first, at most limit: all their history, in one query.
func (s Store) CompletedFor(ctx context.Context, customer int64, limit int) ([]WorkerCount, error) {
	rows, err := s.db.Query(ctx, `SELECT worker_id, count(*) FROM work_items
		WHERE customer_id = $1 AND state = 'completed' AND worker_id IS NOT NULL
		GROUP BY worker_id ORDER BY max(id) DESC LIMIT $2`, customer, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (WorkerCount, error) {
		var w WorkerCount
		err := row.Scan(&w.WorkerID, &w.Done)
		return w, err
	})
}

// DidWorkFor lists those of workers who completed work for customer (the workers a
// customer asks for by name and keeps in their team: their regular workers).
func (s Store) DidWorkFor(ctx context.Context, customer int64, workers []int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT worker_id FROM work_items
		WHERE customer_id = $1 AND state = 'completed' AND worker_id = ANY ($2) ORDER BY worker_id`, customer, workers)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
