// Package sessions is the store of the members' app's sign-in: one-time sign-in codes
// and browser sessions, both kept as SHA-256 hashes only.
package sessions

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/notifications"
)

// Session is a valid browser session and the member it belongs to.
type Session struct {
	// IDHash is the SHA-256 of the session's secret, by which it was looked up.
	IDHash   []byte
	MemberID int64
	// TokenID is the member's token that issued the code the session was opened with (0
	// when staff issued it): the session ends with that token.
	TokenID   int64
	CSRFToken string
	// CreatedAt is when the member signed in (the session was opened).
	CreatedAt time.Time
	ExpiresAt time.Time
	// LastSeen is when the session was last used, to SeenEvery (nil: not since it opened).
	LastSeen *time.Time
	Roles    []string
	Class    string
	Active   bool
	// Unread is how many of the member's notifications are unread.
	Unread int
}

// FreshFor is how long after signing in a session may claim the member's account (or take a
// new key): a session someone else got hold of later (a browser left signed in) cannot turn
// itself into a lasting key and end the member's own ways in.
const FreshFor = 10 * time.Minute

// Fresh says whether a session opened at signedIn is fresh at now (FreshFor).
func Fresh(signedIn, now time.Time) bool { return now.Sub(signedIn) < FreshFor }

// Store runs the session queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

// Open exchanges an unused, unexpired code of an active member for a session, and returns
// the member; store.ErrNotFound for any other code (unknown, used, expired, its member
// inactive, its token revoked), so a code works once. The session ends with the token that
// issued the code. The member's row is locked while the session is opened: a deactivation
// either waits for it, and then ends it, or comes first, and then no session is opened.
func (s Store) Open(ctx context.Context, codeHash, idHash []byte, csrf string, now, expires time.Time) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `WITH m AS (
			SELECT m.id FROM members m JOIN sign_in_codes c ON c.member_id = m.id
			WHERE c.code_hash = $1 AND m.active FOR SHARE OF m
		), used AS (
			UPDATE sign_in_codes c SET used_at = $2 FROM m
			WHERE c.code_hash = $1 AND c.used_at IS NULL AND c.expires_at > $2 AND c.member_id = m.id
			RETURNING c.member_id, c.token_id, c.from_app
		)
		INSERT INTO web_sessions (id_hash, member_id, token_id, csrf_token, created_at, expires_at, opened_with)
		SELECT $3, member_id, token_id, $4, $2, $5, CASE WHEN from_app THEN 'app-code' ELSE 'code' END FROM used
		RETURNING member_id`, codeHash, now, idHash, csrf, expires).Scan(&id)
	if store.IsForeignKeyViolation(err) {
		return 0, store.ErrNotFound // the code's token was revoked meanwhile
	}
	return id, store.NotFound(err)
}

// OpenWithToken opens a session with a member's token (its SHA-256) in place of a code:
// a member who claimed their account signs in with the token the claim gave them. The
// session ends with the token. store.ErrNotFound for a token that is unknown, revoked
// meanwhile, or whose member is inactive; the member's row is locked as in Open.
func (s Store) OpenWithToken(ctx context.Context, tokenHash, idHash []byte, csrf string, now, expires time.Time) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `WITH t AS (
			SELECT t.id, t.member_id FROM member_tokens t JOIN members m ON m.id = t.member_id
			WHERE t.token_hash = $1 AND m.active AND m.erased_at IS NULL FOR SHARE OF m
		)
		INSERT INTO web_sessions (id_hash, member_id, token_id, csrf_token, created_at, expires_at, opened_with)
		SELECT $2, member_id, id, $3, $4, $5, 'token' FROM t
		RETURNING member_id`, tokenHash, idHash, csrf, now, expires).Scan(&id)
	if store.IsForeignKeyViolation(err) {
		return 0, store.ErrNotFound // the token was revoked meanwhile
	}
	return id, store.NotFound(err)
}

// Lookup returns the unexpired session of an active member; store.ErrNotFound otherwise.
func (s Store) Lookup(ctx context.Context, idHash []byte, now time.Time) (Session, error) {
	var ss Session
	err := s.db.QueryRow(ctx, `SELECT w.member_id, coalesce(w.token_id, 0), w.csrf_token, w.created_at, w.expires_at, w.last_seen_at, m.roles, m.stakeholder_class, m.active,
			`+notifications.UnreadSQL("m.id")+`
		FROM web_sessions w JOIN members m ON m.id = w.member_id
		WHERE w.id_hash = $1 AND w.expires_at > $2 AND m.active`, idHash, now).
		Scan(&ss.MemberID, &ss.TokenID, &ss.CSRFToken, &ss.CreatedAt, &ss.ExpiresAt, &ss.LastSeen, &ss.Roles, &ss.Class, &ss.Active, &ss.Unread)
	ss.IDHash = idHash
	return ss, store.NotFound(err)
}

// SeenEvery is how coarsely a session's last use is kept: it is written at most once in
// so long, so a session's requests do not each write.
const SeenEvery = 5 * time.Minute

// Seen records that the session was used at now, when its last use recorded (lastSeen, as
// Lookup read it; nil: none) is SeenEvery old or older; it writes nothing otherwise.
func (s Store) Seen(ctx context.Context, idHash []byte, lastSeen *time.Time, now time.Time) error {
	cutoff := now.Add(-SeenEvery)
	if lastSeen != nil && lastSeen.After(cutoff) {
		return nil
	}
	// The same bound in the statement: of two requests that read it stale, one writes.
	_, err := s.db.Exec(ctx, `UPDATE web_sessions SET last_seen_at = $2
		WHERE id_hash = $1 AND (last_seen_at IS NULL OR last_seen_at <= $3)`, idHash, now, cutoff)
	return err
}

// Delete ends a session (sign-out).
func (s Store) Delete(ctx context.Context, idHash []byte) error {
	_, err := s.db.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, idHash)
	return err
}

// Opened is one of a member's open sessions as the member reads it: when it was opened,
// when it ends, and what opened it; never its secret or the hash of it.
type Opened struct {
	CreatedAt time.Time
	ExpiresAt time.Time
	// With is what opened it: "code" (a sign-in code staff or a token issued),
	// "app-code" (a code another of the member's sessions issued: "sign in on another
	// device"), "token" (the member's token itself), "" for a session opened before this
	// was recorded.
	With string
	// TokenID is the member's token the session ends with: the one that issued its code,
	// or the token it was opened with (0: none, a code staff issued).
	TokenID int64
	// Current says it is the session the list was asked from.
	Current bool
	// LastSeen is when it was last used, to SeenEvery (nil: not since it was signed in).
	LastSeen *time.Time
}

// OpenOf lists the member's sessions unexpired at now, the one of SHA-256 current first,
// then the newest, at most limit; more says others are open.
func (s Store) OpenOf(ctx context.Context, memberID int64, current []byte, now time.Time, limit int) (open []Opened, more bool, err error) {
	rows, err := s.db.Query(ctx, `SELECT created_at, expires_at, coalesce(opened_with, ''), coalesce(token_id, 0), id_hash = $2, last_seen_at
		FROM web_sessions WHERE member_id = $1 AND expires_at > $3
		ORDER BY id_hash = $2 DESC, created_at DESC, id_hash LIMIT $4`, memberID, current, now, limit+1)
	if err != nil {
		return nil, false, err
	}
	open, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Opened, error) {
		var o Opened
		err := row.Scan(&o.CreatedAt, &o.ExpiresAt, &o.With, &o.TokenID, &o.Current, &o.LastSeen)
		return o, err
	})
	if len(open) > limit {
		open, more = open[:limit], true
	}
	return open, more, err
}

// DeleteExpired removes the sessions and codes that ended before now.
func (s Store) DeleteExpired(ctx context.Context, now time.Time) error {
	// Rows another transaction holds (a claim, a release, a revocation deleting them too)
	// are left for the next time: taking them in this statement's order could deadlock.
	if _, err := s.db.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash IN (
			SELECT id_hash FROM web_sessions WHERE expires_at <= $1 FOR UPDATE SKIP LOCKED)`, now); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, `DELETE FROM sign_in_codes WHERE code_hash IN (
			SELECT code_hash FROM sign_in_codes WHERE expires_at <= $1 FOR UPDATE SKIP LOCKED)`, now)
	return err
}
