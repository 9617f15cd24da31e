// Package members is the store of members: the roll, their tokens, blocks, the member
// audit, and what data rights read and erase.
package members

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/payments"
)

// ErrEmailTaken is returned when another member has the email.
var ErrEmailTaken = errors.New("a member with this email already exists")

// Member is a member as the API shows it.
type Member struct {
	ID               int64      `json:"id"`
	Name             *string    `json:"name"`
	Email            *string    `json:"email"`
	Phone            *string    `json:"phone,omitempty"`
	StakeholderClass string     `json:"stakeholderClass,omitempty"`
	Roles            []string   `json:"roles"`
	Qualifications   []string   `json:"qualifications"`
	Active           bool       `json:"active"`
	Available        bool       `json:"available"`
	Rating           string     `json:"rating"`
	RatingCount      int64      `json:"ratingCount"`
	LastAssignedAt   *time.Time `json:"lastAssignedAt,omitempty"`
	ErasedAt         *time.Time `json:"erasedAt,omitempty"`
	// ClaimedAt is when the member claimed their account: since then only they issue its
	// credentials (nil: staff may too).
	ClaimedAt *time.Time `json:"claimedAt,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
}

// Token is a member's token as the API lists it: never the token itself, which only
// its creator saw once, nor its hash.
type Token struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	// IssuedBy is who issued it: IssuedByStaff or IssuedByMember ("" for a token from
	// before this was recorded).
	IssuedBy string `json:"issuedBy,omitempty"`
	// Current says the token is the one the request was made with.
	Current bool `json:"current"`
}

// AuditEntry is one admission or change of a member's roles, class or activity.
type AuditEntry struct {
	ID       int64           `json:"id"`
	MemberID int64           `json:"memberId"`
	Event    string          `json:"event"`
	OldValue json.RawMessage `json:"oldValue,omitempty"`
	NewValue json.RawMessage `json:"newValue,omitempty"`
	Actor    string          `json:"actor"`
	// Credential is the member credential the actor used (Credential.Audit), for the
	// entries of credentials.
	Credential string    `json:"credential,omitempty"`
	At         time.Time `json:"at"`
}

// Fields are a member's fields to write; nil leaves a field as it is (on update).
type Fields struct {
	Name             *string
	Email            *string
	Phone            *string
	StakeholderClass *string
	Roles            *[]string
	Qualifications   *[]string
	Active           *bool
}

// Caller is the authenticated member a token belongs to.
type Caller struct {
	MemberID int64
	TokenID  int64
	Roles    []string
	Class    string
	Active   bool
}

// Store runs the member queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

const cols = `id, name, email, phone, stakeholder_class, roles, qualifications, active, available,
	rating_sum, rating_count, last_assigned_at, erased_at, claimed_at, created_at`

func scan(row pgx.Row) (Member, error) {
	var m Member
	var sum int64
	err := row.Scan(&m.ID, &m.Name, &m.Email, &m.Phone, &m.StakeholderClass, &m.Roles, &m.Qualifications,
		&m.Active, &m.Available, &sum, &m.RatingCount, &m.LastAssignedAt, &m.ErasedAt, &m.ClaimedAt, &m.CreatedAt)
	m.Rating = RatingString(sum, m.RatingCount)
	return m, err
}

// RatingString renders the average rating with two decimals, in integer arithmetic.
func RatingString(sum, count int64) string {
	if count == 0 {
		return "unrated"
	}
	centi := sum * 100 / count
	return fmt.Sprintf("%d.%02d", centi/100, centi%100)
}

// SetAuditActor names the caller for the member audit trigger, for the rest of the
// transaction: the actor ("staff", "member:<id>") and the member credential they used
// (Credential.Audit; "" for staff's admin token).
func (s Store) SetAuditActor(ctx context.Context, actor, credential string) error {
	_, err := s.db.Exec(ctx, `SELECT set_config('cooperator.actor', $1, true), set_config('cooperator.credential', $2, true)`, actor, credential)
	return err
}

// EmailTaken reports whether another member (not except) has the email, holding a
// transaction lock on the address until the transaction ends, so that a concurrent
// request for the same address waits and then sees this one's row. Checking first keeps
// the unique index from ever refusing an insert: PostgreSQL would log the refusal with
// the address in its DETAIL line, and the server log is no place for personal data.
func (s Store) EmailTaken(ctx context.Context, email string, except int64) (bool, error) {
	if _, err := s.db.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('member-email:' || lower($1), 0))`, email); err != nil {
		return false, err
	}
	var taken bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE lower(email) = lower($1) AND id <> $2)`, email, except).Scan(&taken)
	return taken, err
}

// Create inserts a member (the fields the handler validated; class "", no
// qualifications and active when left out) with its first token's hash (none when nil).
func (s Store) Create(ctx context.Context, f Fields, tokenHash []byte) (Member, error) {
	m, err := scan(s.db.QueryRow(ctx, `INSERT INTO members (name, email, phone, stakeholder_class, roles, qualifications, active)
		VALUES ($1, $2, $3, coalesce($4, ''), $5, coalesce($6, '{}'::text[]), coalesce($7, true)) RETURNING `+cols,
		f.Name, f.Email, f.Phone, f.StakeholderClass, f.Roles, f.Qualifications, f.Active))
	if err != nil || tokenHash == nil {
		return m, emailErr(err)
	}
	_, err = s.db.Exec(ctx, `INSERT INTO member_tokens (token_hash, member_id, issued_by) VALUES ($1, $2, 'staff')`, tokenHash, m.ID)
	return m, err
}

func emailErr(err error) error {
	if store.IsUniqueViolation(err) {
		return ErrEmailTaken
	}
	return err
}

// List reads every member.
func (s Store) List(ctx context.Context) ([]Member, error) {
	rows, err := s.db.Query(ctx, `SELECT `+cols+` FROM members ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Member, error) { return scan(row) })
}

// Get reads a member (store.ErrNotFound when there is none).
func (s Store) Get(ctx context.Context, id int64) (Member, error) {
	m, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+` FROM members WHERE id = $1`, id))
	return m, store.NotFound(err)
}

// Update changes the fields that are set of a member who is not erased; a deactivated
// member is no longer available, and loses every token (store.ErrNotFound when there is
// no such member).
func (s Store) Update(ctx context.Context, id int64, f Fields) (Member, error) {
	if f.Active != nil && !*f.Active {
		// A deactivation waits for the writes that hold the member's row for key share
		// (LockActive), and they for it.
		if _, err := s.db.Exec(ctx, `SELECT 1 FROM members WHERE id = $1 FOR UPDATE`, id); err != nil {
			return Member{}, err
		}
	}
	m, err := scan(s.db.QueryRow(ctx, `UPDATE members SET
		name = coalesce($2, name), email = coalesce($3, email), phone = coalesce($4, phone),
		stakeholder_class = coalesce($5, stakeholder_class), roles = coalesce($6, roles),
		qualifications = coalesce($7, qualifications), active = coalesce($8, active),
		available = available AND coalesce($8, active)
		WHERE id = $1 AND erased_at IS NULL RETURNING `+cols, id, f.Name, f.Email, f.Phone, f.StakeholderClass, f.Roles, f.Qualifications, f.Active))
	if err != nil {
		return m, emailErr(store.NotFound(err))
	}
	// Deactivation revokes every token: an inactive member signs in no more until staff
	// reactivate them and mint a new one.
	if !m.Active {
		_, err = s.db.Exec(ctx, `DELETE FROM member_tokens WHERE member_id = $1`, id)
	}
	return m, err
}

// SetAvailable sets whether a member is available for offers.
func (s Store) SetAvailable(ctx context.Context, id int64, available bool) (Member, error) {
	m, err := scan(s.db.QueryRow(ctx, `UPDATE members SET available = $2 WHERE id = $1 RETURNING `+cols, id, available))
	return m, store.NotFound(err)
}

// Authenticate finds the active member a token's hash belongs to (store.ErrNotFound
// otherwise: an inactive member signs in no more, whatever token survived, until staff
// reactivate them and mint a new one).
func (s Store) Authenticate(ctx context.Context, tokenHash []byte) (Caller, error) {
	var c Caller
	err := s.db.QueryRow(ctx, `SELECT m.id, t.id, m.roles, m.stakeholder_class, m.active FROM member_tokens t
		JOIN members m ON m.id = t.member_id WHERE t.token_hash = $1 AND m.active AND m.erased_at IS NULL`, tokenHash).
		Scan(&c.MemberID, &c.TokenID, &c.Roles, &c.Class, &c.Active)
	return c, store.NotFound(err)
}

// Activity reports whether member id is active and not erased (store.ErrNotFound when
// there is no such member).
func (s Store) Activity(ctx context.Context, id int64) (active bool, err error) {
	err = s.db.QueryRow(ctx, `SELECT active AND erased_at IS NULL FROM members WHERE id = $1`, id).Scan(&active)
	return active, store.NotFound(err)
}

// LockActive takes member id's row for key share, for the transaction, and reports whether
// the member is active and not erased. A deactivation or an erasure under way (each holds
// the row for update) is waited for and then seen, so what the transaction writes for the
// member is not written after the erasure that would have removed it. For key share, not
// share: a transaction that holds it may still change the member's row (an accept takes
// its worker's for no key update) without deadlocking with another that holds it too.
//
// A transaction takes the work items it locks before member rows, and member rows before
// any other: the order of an erasure (the work offered to the member, their row, then the
// rest).
func (s Store) LockActive(ctx context.Context, id int64) (active bool, err error) {
	active, erased, err := s.LockStanding(ctx, id)
	return active && !erased, err
}

// LockStanding takes member id's row for key share, as LockActive, and reports whether the
// member is active and whether their data has been erased.
func (s Store) LockStanding(ctx context.Context, id int64) (active, erased bool, err error) {
	err = s.db.QueryRow(ctx, `SELECT active, erased_at IS NOT NULL FROM members WHERE id = $1 FOR KEY SHARE`, id).Scan(&active, &erased)
	return active, erased, store.NotFound(err)
}

// Exists reports whether a member has the id.
func (s Store) Exists(ctx context.Context, id int64) (bool, error) {
	var ok bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE id = $1)`, id).Scan(&ok)
	return ok, err
}

// TokenPrefix begins every member token, so that people and forms tell one from a
// sign-in code.
const TokenPrefix = "cpt_"

// HashToken is the stored form of a member token: the SHA-256 of the token as issued.
func HashToken(plain string) [32]byte { return sha256.Sum256([]byte(plain)) }

// Who issued a token.
const (
	IssuedByStaff  = "staff"
	IssuedByMember = "member"
)

// Credential is the member credential a request came with: an app session (the SHA-256
// of its secret, and the token it ends with, if any) or else a token (its id); the zero
// value is staff's admin token.
type Credential struct {
	TokenID int64
	Session []byte
}

// Audit names the credential in the member audit: token:<id>, app-session (with
// :token:<id> when it ends with a token), or "" for staff's admin token. Never a secret.
func (c Credential) Audit() string {
	switch {
	case c.Session != nil && c.TokenID != 0:
		return fmt.Sprintf("app-session:token:%d", c.TokenID)
	case c.Session != nil:
		return "app-session"
	case c.TokenID != 0:
		return fmt.Sprintf("token:%d", c.TokenID)
	}
	return ""
}

// lockMember share-locks an active member's row, and the row of the member credential the
// request came with (cred), until the transaction ends, and reports whether the member
// claimed their account: store.ErrNotFound when there is no such active member,
// store.ErrCredentialGone when cred ended meanwhile (a claim or a release that held the
// row ended it). A claim or a release waits for the lock and then ends what was made
// under it.
func (s Store) lockMember(ctx context.Context, id int64, cred Credential) (claimed bool, err error) {
	err = s.db.QueryRow(ctx, `SELECT claimed_at IS NOT NULL FROM members WHERE id = $1 AND active AND erased_at IS NULL FOR SHARE`, id).Scan(&claimed)
	if err != nil {
		return false, store.NotFound(err)
	}
	// The token first, then the session that ends with it: the order a revocation's
	// cascade takes them in.
	var one int
	if cred.TokenID != 0 {
		err := s.db.QueryRow(ctx, `SELECT 1 FROM member_tokens WHERE member_id = $1 AND id = $2 FOR SHARE`, id, cred.TokenID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return claimed, store.ErrCredentialGone
		} else if err != nil {
			return claimed, err
		}
	}
	if cred.Session != nil {
		// Still the session it was, ending with the same token: a claim under way when this
		// request read it rebinds it to the claim's new token.
		err := s.db.QueryRow(ctx, `SELECT 1 FROM web_sessions WHERE member_id = $1 AND id_hash = $2
			AND token_id IS NOT DISTINCT FROM NULLIF($3, 0) FOR SHARE`, id, cred.Session, cred.TokenID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return claimed, store.ErrCredentialGone
		} else if err != nil {
			return claimed, err
		}
	}
	return claimed, nil
}

// EndOtherSessions ends every web session of member id but the one cred came with (sign
// out everywhere else), whatever opened them (a code staff issued opens a session that
// ends with no token, which revoking tokens leaves open), and the member's sign-in codes
// not used yet, which would open another at once. It returns how many sessions it ended.
// The member and cred are locked first (lockMember), as a claim and a release take them:
// store.ErrNotFound when there is no such active member, store.ErrCredentialGone when the
// session ended meanwhile. In a transaction.
func (s Store) EndOtherSessions(ctx context.Context, id int64, cred Credential) (int64, error) {
	if _, err := s.lockMember(ctx, id, cred); err != nil {
		return 0, err
	}
	tag, err := s.db.Exec(ctx, `DELETE FROM web_sessions WHERE member_id = $1 AND id_hash <> $2`, id, cred.Session)
	if err != nil {
		return 0, err
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM sign_in_codes WHERE member_id = $1 AND used_at IS NULL`, id); err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// CreateToken adds a token's hash for an active member who is not erased, issued by
// IssuedByStaff (cred zero) or IssuedByMember with cred: store.ErrNotFound when there is
// no such member, store.ErrClaimed when staff issue it to a member who claimed their
// account, store.ErrCredentialGone when cred ended meanwhile. The member's row and cred
// are share-locked (lockMember), so a claim either comes first (and staff's token is
// refused, a member's made with an ended credential too) or waits and then revokes it.
// Run it in a transaction.
func (s Store) CreateToken(ctx context.Context, id int64, hash []byte, issuedBy string, cred Credential) (Token, error) {
	t := Token{IssuedBy: issuedBy}
	claimed, err := s.lockMember(ctx, id, cred)
	if err != nil {
		return t, err
	}
	if claimed && issuedBy != IssuedByMember {
		return t, store.ErrClaimed
	}
	err = s.db.QueryRow(ctx, `INSERT INTO member_tokens (token_hash, member_id, issued_by) VALUES ($1, $2, $3) RETURNING id, created_at`,
		hash, id, issuedBy).Scan(&t.ID, &t.CreatedAt)
	return t, err
}

// IssueCode records a sign-in code's hash for an active member, issued by staff (cred
// zero) or with the member's credential cred (the code names cred's token, if any: it
// ends with it), valid until expires: store.ErrNotFound when there is no such active
// member, store.ErrClaimed when staff issue it to a member who claimed their account,
// store.ErrCredentialGone when cred ended meanwhile. Locked as CreateToken; run it in a
// transaction.
func (s Store) IssueCode(ctx context.Context, id int64, cred Credential, hash []byte, now, expires time.Time) error {
	claimed, err := s.lockMember(ctx, id, cred)
	if err != nil {
		return err
	}
	if claimed && cred.TokenID == 0 && cred.Session == nil {
		return store.ErrClaimed
	}
	// cred's token, locked above, stays until this transaction ends. A code a session of
	// the members' app issued says so (from_app): the session it opens is the member's own.
	_, err = s.db.Exec(ctx, `INSERT INTO sign_in_codes (code_hash, member_id, token_id, created_at, expires_at, from_app)
		VALUES ($1, $2, NULLIF($5, 0), $3, $4, $6)`, hash, id, now, expires, cred.TokenID, cred.Session != nil)
	return err
}

// Claim records that an active member claimed their account at at (the first claim's time
// stays), adds the new token hash, issued by the member, and ends every other way into
// the account: the member's other tokens (with the codes they issued and the sessions
// those opened), every sign-in code, and every session but the one cred names (if any),
// which from then on ends with the new token. It returns when the account was claimed,
// the new token's id and the ids of the tokens revoked: store.ErrNotFound when there is
// no such active member, store.ErrCredentialGone when cred, the credential claiming,
// ended meanwhile (another claim, or a release, ended it while this one waited). Run it
// in a transaction.
func (s Store) Claim(ctx context.Context, id int64, at time.Time, cred Credential, hash []byte) (claimed time.Time, tokenID int64, revoked []int64, err error) {
	err = s.db.QueryRow(ctx, `UPDATE members SET claimed_at = coalesce(claimed_at, $2)
		WHERE id = $1 AND active AND erased_at IS NULL RETURNING claimed_at`, id, at).Scan(&claimed)
	if err != nil {
		return claimed, 0, nil, store.NotFound(err)
	}
	// The member's row is this transaction's now: what another claim or a release ended
	// before it is gone, and nothing ends cred before this one commits.
	if _, err := s.lockMember(ctx, id, cred); err != nil {
		return claimed, 0, nil, err
	}
	err = s.db.QueryRow(ctx, `INSERT INTO member_tokens (token_hash, member_id, issued_by) VALUES ($1, $2, 'member') RETURNING id`,
		hash, id).Scan(&tokenID)
	if err != nil {
		return claimed, 0, nil, err
	}
	if _, err := s.db.Exec(ctx, `UPDATE web_sessions SET token_id = $3 WHERE member_id = $1 AND id_hash = $2`, id, cred.Session, tokenID); err != nil {
		return claimed, 0, nil, err
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM web_sessions WHERE member_id = $1 AND id_hash IS DISTINCT FROM $2`, id, cred.Session); err != nil {
		return claimed, 0, nil, err
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM sign_in_codes WHERE member_id = $1`, id); err != nil {
		return claimed, 0, nil, err
	}
	rows, err := s.db.Query(ctx, `DELETE FROM member_tokens WHERE member_id = $1 AND id <> $2 RETURNING id`, id, tokenID)
	if err != nil {
		return claimed, 0, nil, err
	}
	revoked, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	slices.Sort(revoked)
	return claimed, tokenID, revoked, err
}

// ErrNotClaimed is returned when a claim is released that was not made.
var ErrNotClaimed = errors.New("the member has not claimed their account")

// ReleaseClaim releases a member's claim of their account and ends every credential of
// theirs: tokens, sign-in codes and sessions (store.ErrNotFound when there is no such
// member, ErrNotClaimed when they made no claim). Run it in a transaction.
func (s Store) ReleaseClaim(ctx context.Context, id int64) error {
	tag, err := s.db.Exec(ctx, `UPDATE members SET claimed_at = NULL WHERE id = $1 AND claimed_at IS NOT NULL`, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		ok, err := s.Exists(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		return ErrNotClaimed
	}
	for _, q := range []string{
		`DELETE FROM member_tokens WHERE member_id = $1`,
		`DELETE FROM web_sessions WHERE member_id = $1`,
		`DELETE FROM sign_in_codes WHERE member_id = $1`,
	} {
		if _, err := s.db.Exec(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// Tokens lists a member's tokens.
func (s Store) Tokens(ctx context.Context, id int64) ([]Token, error) {
	rows, err := s.db.Query(ctx, `SELECT id, created_at, coalesce(issued_by, '') FROM member_tokens WHERE member_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Token, error) {
		var t Token
		err := row.Scan(&t.ID, &t.CreatedAt, &t.IssuedBy)
		return t, err
	})
}

// RevokeToken deletes one of a member's tokens, with a request made with cred (store.ErrNotFound
// when the member has none by that id; store.ErrCredentialGone when cred, a member's,
// ended meanwhile). It takes the member's row for update first: a revocation cascades to
// the codes and sessions of the token, which a sign-in (that locks the code and then the
// token) or a code issued (the token, then the session) take in another order, so those
// must wait for it, or it for them, at the member's row. Run it in a transaction.
func (s Store) RevokeToken(ctx context.Context, id, tokenID int64, cred Credential) error {
	if _, err := s.db.Exec(ctx, `SELECT 1 FROM members WHERE id = $1 FOR NO KEY UPDATE`, id); err != nil {
		return err
	}
	// A member's request checks its own credential still stands; staff revoke any token,
	// an inactive member's too (one that survived a deactivation made outside the API).
	if cred.TokenID != 0 || cred.Session != nil {
		if _, err := s.lockMember(ctx, id, cred); err != nil {
			return err
		}
	}
	tag, err := s.db.Exec(ctx, `DELETE FROM member_tokens WHERE member_id = $1 AND id = $2`, id, tokenID)
	if err == nil && tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return err
}

// Block records that customer does not want worker's offers (store.ErrNotFound when no
// member is worker).
func (s Store) Block(ctx context.Context, customer, worker int64) error {
	tag, err := s.db.Exec(ctx, `INSERT INTO blocks (customer_id, worker_id)
		SELECT $1, id FROM members WHERE id = $2 ON CONFLICT DO NOTHING`, customer, worker)
	if err != nil || tag.RowsAffected() > 0 {
		return err
	}
	ok, err := s.Exists(ctx, worker)
	if err == nil && !ok {
		return store.ErrNotFound
	}
	return err
}

// Blocked lists the workers customer blocked, by id.
func (s Store) Blocked(ctx context.Context, customer int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT worker_id FROM blocks WHERE customer_id = $1 ORDER BY worker_id`, customer)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// Unblock lifts customer's block of worker (store.ErrNotFound when there is none).
func (s Store) Unblock(ctx context.Context, customer, worker int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM blocks WHERE customer_id = $1 AND worker_id = $2`, customer, worker)
	if err == nil && tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return err
}

// AuditEvents are the events of the member audit (the database's check lists the same).
var AuditEvents = []string{"admitted", "roles", "stakeholderClass", "activated", "deactivated", "erased",
	"tokenIssued", "tokenRevoked", "signInCodeIssued", "claimed", "claimReleased", "signedIn", "sessionEnded"}

// MaxAuditEntries is the most entries one read of the audit answers.
const MaxAuditEntries = 1000

// AuditFilter narrows a read of the audit: to these events (none: all), and to the newest
// Limit entries (0: MaxAuditEntries).
type AuditFilter struct {
	Events []string
	Limit  int
}

// Audit lists the member audit, newest first, of one member or (memberID nil) all, as f
// narrows it.
func (s Store) Audit(ctx context.Context, memberID *int64, f AuditFilter) ([]AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxAuditEntries {
		limit = MaxAuditEntries
	}
	rows, err := s.db.Query(ctx, `SELECT id, member_id, event, old_value, new_value, actor, coalesce(credential, ''), at FROM member_audit
		WHERE ($1::bigint IS NULL OR member_id = $1) AND (coalesce(cardinality($2::text[]), 0) = 0 OR event = ANY ($2))
		ORDER BY id DESC LIMIT $3`, memberID, f.Events, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		var oldV, newV []byte
		err := row.Scan(&e.ID, &e.MemberID, &e.Event, &oldV, &newV, &e.Actor, &e.Credential, &e.At)
		if len(oldV) > 0 {
			e.OldValue = oldV
		}
		if len(newV) > 0 {
			e.NewValue = newV
		}
		return e, err
	})
}

// Export returns everything the service holds about a member, as one JSON document
// (store.ErrNotFound when there is no such member). Their payments carry the
// idempotency keys that are theirs (payments.MemberKeysSQL) and work items' keys;
// another client's key on a payment to them is that client's and left out. zone is the
// co-op's time zone, in which their weekly hours are read (said with the schedule).
// Their ballots carry their choices only when choices is set: the ballot is secret, read
// by the member alone (staff reading the export learn which votes they took part in).
func (s Store) Export(ctx context.Context, id int64, zone string, choices bool) (json.RawMessage, error) {
	var doc json.RawMessage
	err := s.db.QueryRow(ctx, `SELECT json_build_object(
		'member', (SELECT row_to_json(m) FROM members m WHERE m.id = $1),
		'tokens', (SELECT coalesce(json_agg(json_strip_nulls(json_build_object('createdAt', t.created_at, 'issuedBy', t.issued_by)) ORDER BY t.created_at), '[]') FROM member_tokens t WHERE t.member_id = $1),
		'work', (SELECT coalesce(json_agg(w ORDER BY w.id), '[]') FROM work_items w WHERE w.customer_id = $1 OR w.worker_id = $1),
		'workHistory', (SELECT coalesce(json_agg(h ORDER BY h.id), '[]') FROM work_history h
			WHERE h.actor_id = $1 OR h.worker_id = $1 OR h.work_id IN (SELECT id FROM work_items WHERE customer_id = $1)),
		'offers', (SELECT coalesce(json_agg(o ORDER BY o.id), '[]') FROM offers o WHERE o.worker_id = $1),
		'blocks', (SELECT coalesce(json_agg(b), '[]') FROM blocks b WHERE b.customer_id = $1),
		'payments', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', py.id, 'workId', py.work_id, 'payerId', py.payer_id,
			'workerId', py.worker_id, 'grossCents', py.gross_cents, 'surgeCents', py.surge_cents, 'split', py.split,
			'refunded', py.refund_tx_id IS NOT NULL, 'createdAt', py.created_at)
			|| CASE WHEN `+payments.MemberKeysSQL+` OR py.idempotency_scope = '`+payments.WorkScope+`'
				THEN jsonb_build_object('idempotencyKey', py.idempotency_key) ELSE '{}' END ORDER BY py.id), '[]')
			FROM payments py WHERE py.payer_id = $1 OR py.worker_id = $1),
		'ledgerEntries', (SELECT coalesce(json_agg(json_build_object('transactionId', e.tx_id, 'account', e.account, 'amountCents', e.amount_cents) ORDER BY e.id), '[]')
			FROM ledger_entries e WHERE e.member_id = $1),
		'ballots', (SELECT coalesce(jsonb_agg(jsonb_build_object('proposal_id', b.proposal_id, 'member_id', b.member_id, 'cast_at', b.cast_at)
			|| CASE WHEN $3 THEN jsonb_build_object('choice', b.choice) ELSE '{}' END ORDER BY b.proposal_id), '[]') FROM ballots b WHERE b.member_id = $1),
		'proposals', (SELECT coalesce(json_agg(json_build_object('id', pr.id, 'title', pr.title, 'body', pr.body,
			'field', pr.field, 'status', pr.status, 'createdAt', pr.created_at) ORDER BY pr.id), '[]') FROM proposals pr WHERE pr.created_by = $1),
		'delegation', (SELECT row_to_json(d) FROM delegations d WHERE d.member_id = $1),
		'delegatedToMe', (SELECT coalesce(json_agg(d.member_id), '[]') FROM delegations d WHERE d.delegate_id = $1),
		'disbursements', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'fund', d.fund, 'amountCents', d.amount_cents,
			'memberId', d.member_id, 'reason', d.reason, 'requestedBy', d.requested_by, 'status', d.status, 'createdAt', d.created_at)
			|| CASE WHEN d.idempotency_scope = `+payments.MemberScopeSQL+` THEN jsonb_build_object('idempotencyKey', d.idempotency_key) ELSE '{}' END
			ORDER BY d.id), '[]')
			FROM disbursements d WHERE d.member_id = $1 OR d.requested_by = $1),
		'refundRequests', (SELECT coalesce(json_agg(json_build_object('id', rr.id, 'paymentId', rr.payment_id, 'requestedBy', rr.requested_by,
			'reason', rr.reason, 'proposalId', rr.proposal_id, 'status', rr.status, 'message', rr.message, 'createdAt', rr.created_at,
			'decidedAt', rr.decided_at) ORDER BY rr.id), '[]')
			FROM refund_requests rr JOIN payments py ON py.id = rr.payment_id
			WHERE rr.requested_by = $1 OR py.payer_id = $1 OR py.worker_id = $1),
		'schedule', json_build_object(
			'timeZone', $2::text,
			'weekly', (SELECT coalesce(json_agg(a ORDER BY a.weekday, a.from_minute), '[]') FROM availability_windows a WHERE a.member_id = $1),
			'exceptions', (SELECT coalesce(json_agg(x ORDER BY x.starts_at), '[]') FROM availability_exceptions x WHERE x.member_id = $1)),
		'listings', (SELECT coalesce(json_agg(l ORDER BY l.id), '[]') FROM listings l WHERE l.owner_id = $1),
		'milestones', (SELECT coalesce(json_agg(ms ORDER BY ms.work_id, ms.n), '[]') FROM milestones ms
			WHERE ms.work_id IN (SELECT id FROM work_items WHERE customer_id = $1 OR worker_id = $1)),
		'notifications', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'event', n.event, 'subjectId', n.subject_id,
			'at', n.at, 'readAt', n.read_at) || CASE WHEN n.outcome <> '' THEN jsonb_build_object('outcome', n.outcome) ELSE '{}' END
			ORDER BY n.id), '[]') FROM notifications n WHERE n.member_id = $1),
		'audit', (SELECT coalesce(json_agg(json_strip_nulls(json_build_object('id', a.id, 'memberId', a.member_id, 'event', a.event,
			'oldValue', a.old_value, 'newValue', a.new_value, 'actor', a.actor, 'credential', a.credential, 'at', a.at)) ORDER BY a.id), '[]')
			FROM member_audit a WHERE a.member_id = $1),
		'credentials', json_build_object(
			'skills', (SELECT coalesce(json_agg(k ORDER BY k.kind, k.value), '[]') FROM worker_skills k WHERE k.member_id = $1),
			'backgroundCheck', (SELECT row_to_json(c) FROM background_checks c WHERE c.member_id = $1),
			'careTeam', (SELECT coalesce(json_agg(t ORDER BY t.client_id, t.worker_id), '[]') FROM care_teams t WHERE t.client_id = $1 OR t.worker_id = $1))
	) WHERE EXISTS (SELECT 1 FROM members WHERE id = $1)`, id, zone, choices).Scan(&doc)
	return doc, store.NotFound(err)
}

// ErrWorkChanging is returned by LockForErasure when another transaction holds one of the
// member's work items (a match, an acceptance, a completion under way).
var ErrWorkChanging = errors.New("the member's work is changing")

// LockForErasure locks a member's row and reports whether their data is already erased,
// whether they are active, and whether they have work under way: work they requested
// that is offered, accepted or started, or work they accepted or started (an offer to
// them is not: the handler withdraws it) (store.ErrNotFound when there is no such member).
// All the work that names them is locked too, without waiting (ErrWorkChanging when
// another transaction holds an item), and so are their payments, refund requests,
// disbursements, proposals and delegations (a refund or a vote's close holds those, then waits on the
// member's row): a match moving a request on after
// this check would leave an erased customer with work under way, and waiting would
// deadlock with a completion (it holds its work, then its payment's foreign key waits on
// the member's row, which this holds).
func (s Store) LockForErasure(ctx context.Context, id int64) (erased, active, busy bool, err error) {
	err = s.db.QueryRow(ctx, `SELECT erased_at IS NOT NULL, active FROM members WHERE id = $1 FOR UPDATE`, id).Scan(&erased, &active)
	if err != nil {
		return false, false, false, store.NotFound(err)
	}
	// All of the member's work, whatever its state: the erasure rewrites every item's
	// details, and a completion paying for one (which holds the item, then the payer's row)
	// would otherwise deadlock with it. For no key update: a row that only refers to an
	// item (a payment, a history entry) does not hold it up.
	rows, err := s.db.Query(ctx, `SELECT state, customer_id = $1 FROM work_items
		WHERE customer_id = $1 OR worker_id = $1
		FOR NO KEY UPDATE NOWAIT`, id)
	if err != nil {
		return erased, active, false, workChanging(err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var customer bool
		if err := rows.Scan(&state, &customer); err != nil {
			return erased, active, false, err
		}
		under := state == "offered" || state == "accepted" || state == "in_progress"
		busy = busy || (customer && under) || (!customer && (state == "accepted" || state == "in_progress"))
	}
	if err := rows.Err(); err != nil {
		return erased, active, false, workChanging(err)
	}
	// The other rows Erase rewrites that a transaction may hold before it waits on the
	// member's row: a refund holds its payment (and a vote's close its proposal and refund
	// request) before its ledger's foreign key waits on the payer's row. Taken without
	// waiting too, or the two would deadlock.
	for _, q := range []string{
		`SELECT 1 FROM payments WHERE ` + payments.MemberKeysSQL + ` FOR NO KEY UPDATE NOWAIT`,
		`SELECT 1 FROM refund_requests rr JOIN payments py ON py.id = rr.payment_id
			WHERE rr.requested_by = $1 OR py.payer_id = $1 OR py.worker_id = $1 FOR NO KEY UPDATE OF rr NOWAIT`,
		`SELECT 1 FROM disbursements WHERE requested_by = $1 OR member_id = $1 FOR NO KEY UPDATE NOWAIT`,
		// A delegation's deletion tells the member who delegated, waiting on their row
		// (notify): the erasure of that member, holding it, would then wait on the
		// delegation the other erasure deleted. Whichever erasure takes the delegation
		// first goes on; the other answers "try again".
		`SELECT 1 FROM delegations WHERE member_id = $1 OR delegate_id = $1 FOR UPDATE NOWAIT`,
		`SELECT 1 FROM proposals WHERE created_by = $1
			OR id IN (SELECT proposal_id FROM disbursements WHERE member_id = $1 OR requested_by = $1)
			OR id IN (SELECT rr.proposal_id FROM refund_requests rr JOIN payments py ON py.id = rr.payment_id
				WHERE rr.requested_by = $1 OR py.payer_id = $1 OR py.worker_id = $1)
			FOR NO KEY UPDATE NOWAIT`,
	} {
		if _, err := s.db.Exec(ctx, q, id); err != nil {
			return erased, active, false, workChanging(err)
		}
	}
	return erased, active, busy, nil
}

// workChanging is ErrWorkChanging for PostgreSQL's "lock not available" (55P03), else err.
func workChanging(err error) error {
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "55P03" {
		return ErrWorkChanging
	}
	return err
}

// Erase removes a member's personal data. The member row stays, anonymised, so the
// ledger (which is append-only and keeps balancing), the ballots and the proposals still
// refer to it; its class goes with the rest (outside multi-stakeholder governance it is
// free text). Addresses and notes in their work and the words they wrote (the reasons
// they gave, the idempotency keys of their payments, also staff's for payments on their
// behalf, the title and body of their proposals) are wiped; tokens, blocks,
// delegations and notifications go (a member who delegated to them is told); the reasons of disbursements they asked for or received are wiped; their work still waiting for a worker is cancelled.
func (s Store) Erase(ctx context.Context, id int64) error {
	for _, q := range []string{
		`DELETE FROM availability_windows WHERE member_id = $1`,
		`DELETE FROM availability_exceptions WHERE member_id = $1`,
		`DELETE FROM worker_skills WHERE member_id = $1`,
		`DELETE FROM background_checks WHERE member_id = $1`,
		`DELETE FROM care_teams WHERE client_id = $1 OR worker_id = $1`,
		`UPDATE members SET name = NULL, email = NULL, phone = NULL, stakeholder_class = '', qualifications = '{}', active = false,
			available = false, erased_at = now() WHERE id = $1`,
		// A proposal is the co-op's record and stays, but its words are the author's and
		// may name them.
		`UPDATE proposals SET title = 'Proposal ' || id || ' (text erased with its author''s data)', body = ''
			WHERE created_by = $1`,
		// Idempotency keys are free text: the member's own, and staff's for payments on
		// the member's behalf, which may name them. The member makes no more requests.
		// The replaced keys move to a scope of their own ("erased:" and the old scope),
		// where the payment id keeps them unique: a client may have chosen a key that
		// looks like one, and staff's keys must keep replaying.
		`UPDATE payments SET idempotency_scope = 'erased:' || idempotency_scope, idempotency_key = 'erased-' || id
			WHERE ` + payments.MemberKeysSQL,
		`DELETE FROM member_tokens WHERE member_id = $1`,
		// The rolls of votes keep the member (a cast ballot counts) and the class they
		// voted in where it is a class of the vote's rules (multi-stakeholder); under the
		// other models the class copied there is the free text staff wrote about them.
		`UPDATE proposal_electorate e SET stakeholder_class = '' FROM proposals p
			WHERE e.member_id = $1 AND p.id = e.proposal_id AND p.rules->>'model' IS DISTINCT FROM '` + policy.MultiStakeholder + `'
				AND p.rules IS NOT NULL`,
		// The reason of a disbursement is its requester's words, and may name whom it pays;
		// the proposal that approves one the member asked for or receives repeats it.
		`UPDATE proposals SET body = '' WHERE id IN (SELECT proposal_id FROM disbursements WHERE member_id = $1 OR requested_by = $1)`,
		`UPDATE disbursements SET reason = '' WHERE requested_by = $1 OR member_id = $1`,
		// A disbursement's idempotency key is free text its asker chose, and may name the
		// member; it moves to a scope of its own, where the id keeps it unique.
		`UPDATE disbursements SET idempotency_scope = 'erased:' || idempotency_scope, idempotency_key = 'erased-' || id, request_hash = ''
			WHERE (requested_by = $1 OR member_id = $1) AND idempotency_key IS NOT NULL AND idempotency_scope NOT LIKE 'erased:%'`,
		// A refund request's reason is its requester's words, and may name the payment's
		// parties; the proposal that decides it repeats it.
		`UPDATE proposals SET body = '' WHERE id IN (SELECT rr.proposal_id FROM refund_requests rr JOIN payments py ON py.id = rr.payment_id
			WHERE rr.requested_by = $1 OR py.payer_id = $1 OR py.worker_id = $1)`,
		`UPDATE refund_requests rr SET reason = '' FROM payments py
			WHERE py.id = rr.payment_id AND (rr.requested_by = $1 OR py.payer_id = $1 OR py.worker_id = $1)`,
		`DELETE FROM blocks WHERE customer_id = $1 OR worker_id = $1`,
		`DELETE FROM delegations WHERE member_id = $1 OR delegate_id = $1`,
		`UPDATE work_history SET note = '' WHERE work_id IN (SELECT id FROM work_items WHERE customer_id = $1 OR worker_id = $1)`,
		// Why a worker's offer was withdrawn (time off, a skill or a check taken away) is
		// about them.
		`UPDATE offers SET withdrawn_because = '' WHERE worker_id = $1`,
		// The customer's marketplace orders still waiting are cancelled below: their
		// quantity goes back to the listings first, while their details still say which
		// (as a cancel does).
		`UPDATE listings l SET stock = l.stock + o.quantity FROM (
			SELECT (details->>'listingId')::bigint AS listing_id,
				sum(CASE WHEN details ? 'quantity' THEN (details->>'quantity')::bigint ELSE 1 END) AS quantity
			FROM work_items WHERE customer_id = $1 AND state = 'requested' AND vertical = 'marketplace' AND kind = 'order'
				AND details->>'listingId' ~ '^\+?[0-9]{1,18}$' AND (NOT details ? 'quantity' OR details->>'quantity' ~ '^\+?[0-9]{1,9}$')
			GROUP BY 1) o WHERE l.id = o.listing_id`,
		`UPDATE work_items SET details = '{}', stops = NULL WHERE customer_id = $1 OR worker_id = $1`,
		`UPDATE milestones SET title = '' WHERE work_id IN (SELECT id FROM work_items WHERE customer_id = $1 OR worker_id = $1)`,
		`UPDATE listings SET title = '', description = '' WHERE owner_id = $1`,
		`INSERT INTO work_history (work_id, from_state, to_state, note)
			SELECT id, state, 'cancelled', 'customer data erased' FROM work_items WHERE customer_id = $1 AND state = 'requested'`,
		`UPDATE work_items SET state = 'cancelled', updated_at = now() WHERE customer_id = $1 AND state = 'requested'`,
		// What the co-op told the member goes with them (the database writes an erased
		// member no more).
		`DELETE FROM notifications WHERE member_id = $1`,
	} {
		if _, err := s.db.Exec(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}
