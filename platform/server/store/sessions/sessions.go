// Package sessions is the store of the members' app's sign-in: one-time sign-in codes
// and browser sessions, both kept as SHA-256 hashes only.
package sessions

import (
	"context"
	"time"

	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Session is a valid browser session and the member it belongs to.
type Session struct {
	MemberID  int64
	CSRFToken string
	ExpiresAt time.Time
	Roles     []string
	Class     string
	Active    bool
}

// Store runs the session queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

// IssueCode records a sign-in code for an active member; store.ErrNotFound when the member
// does not exist or is not active.
func (s Store) IssueCode(ctx context.Context, memberID int64, hash []byte, now, expires time.Time) error {
	tag, err := s.db.Exec(ctx, `INSERT INTO sign_in_codes (code_hash, member_id, created_at, expires_at)
		SELECT $1, id, $3, $4 FROM members WHERE id = $2 AND active`, hash, memberID, now, expires)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// UseCode marks an unused, unexpired code of an active member used and returns the member;
// store.ErrNotFound for any other code (unknown, used, expired), so a code works once.
func (s Store) UseCode(ctx context.Context, hash []byte, now time.Time) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `UPDATE sign_in_codes c SET used_at = $2
		FROM members m
		WHERE c.code_hash = $1 AND c.used_at IS NULL AND c.expires_at > $2 AND m.id = c.member_id AND m.active
		RETURNING c.member_id`, hash, now).Scan(&id)
	return id, store.NotFound(err)
}

// Create records a session.
func (s Store) Create(ctx context.Context, idHash []byte, memberID int64, csrf string, now, expires time.Time) error {
	_, err := s.db.Exec(ctx, `INSERT INTO web_sessions (id_hash, member_id, csrf_token, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, idHash, memberID, csrf, now, expires)
	return err
}

// Lookup returns the unexpired session of an active member; store.ErrNotFound otherwise.
func (s Store) Lookup(ctx context.Context, idHash []byte, now time.Time) (Session, error) {
	var ss Session
	err := s.db.QueryRow(ctx, `SELECT w.member_id, w.csrf_token, w.expires_at, m.roles, m.stakeholder_class, m.active
		FROM web_sessions w JOIN members m ON m.id = w.member_id
		WHERE w.id_hash = $1 AND w.expires_at > $2 AND m.active`, idHash, now).
		Scan(&ss.MemberID, &ss.CSRFToken, &ss.ExpiresAt, &ss.Roles, &ss.Class, &ss.Active)
	return ss, store.NotFound(err)
}

// Delete ends a session (sign-out).
func (s Store) Delete(ctx context.Context, idHash []byte) error {
	_, err := s.db.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, idHash)
	return err
}

// DeleteExpired removes the sessions and codes that ended before now.
func (s Store) DeleteExpired(ctx context.Context, now time.Time) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at <= $1`, now); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, `DELETE FROM sign_in_codes WHERE expires_at <= $1`, now)
	return err
}
