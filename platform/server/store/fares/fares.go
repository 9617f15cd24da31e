// Package fares is the store of the fare rules the members voted.
package fares

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Store runs the fare rule queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

// Current reads the newest voted rule and the proposal that voted it
// (store.ErrNotFound when none was voted).
func (s Store) Current(ctx context.Context) (policy.Fares, int64, error) {
	var raw []byte
	var proposal int64
	err := s.db.QueryRow(ctx, `SELECT rule, proposal_id FROM fare_rules ORDER BY id DESC LIMIT 1`).Scan(&raw, &proposal)
	if errors.Is(err, pgx.ErrNoRows) {
		return policy.Fares{}, 0, store.ErrNotFound
	}
	if err != nil {
		return policy.Fares{}, 0, err
	}
	var f policy.Fares
	if err := json.Unmarshal(raw, &f); err != nil {
		return f, 0, err
	}
	return f, proposal, nil
}

// Apply puts the rule a passed proposal carries in force.
func (s Store) Apply(ctx context.Context, rule []byte, proposal int64, at time.Time) error {
	_, err := s.db.Exec(ctx, `INSERT INTO fare_rules (rule, proposal_id, applied_at) VALUES ($1, $2, $3)`, rule, proposal, at)
	return err
}
