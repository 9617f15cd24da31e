package work

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Involving lists the ids of the newest work items (at most limit) a member requested, is
// offered or works on, newest first: the members' app reads each through the API's own
// read of a work item, which decides what the member may see.
func (s Store) Involving(ctx context.Context, member int64, limit int) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM work_items WHERE customer_id = $1 OR worker_id = $1
		ORDER BY id DESC LIMIT $2`, member, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
