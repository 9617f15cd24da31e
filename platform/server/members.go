package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cooperator-dev/cooperator/api/policy"
)

var allRoles = []string{"worker", "customer", "staff"}

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
	CreatedAt        time.Time  `json:"createdAt"`
}

const memberCols = `id, name, email, phone, stakeholder_class, roles, qualifications, active, available,
	rating_sum, rating_count, last_assigned_at, erased_at, created_at`

func scanMember(row pgx.Row) (Member, error) {
	var m Member
	var sum int64
	err := row.Scan(&m.ID, &m.Name, &m.Email, &m.Phone, &m.StakeholderClass, &m.Roles, &m.Qualifications,
		&m.Active, &m.Available, &sum, &m.RatingCount, &m.LastAssignedAt, &m.ErasedAt, &m.CreatedAt)
	m.Rating = ratingString(sum, m.RatingCount)
	return m, err
}

// ratingString renders the average rating with two decimals, in integer arithmetic.
func ratingString(sum, count int64) string {
	if count == 0 {
		return "unrated"
	}
	centi := sum * 100 / count
	return fmt.Sprintf("%d.%02d", centi/100, centi%100)
}

type memberInput struct {
	Name             *string   `json:"name"`
	Email            *string   `json:"email"`
	Phone            *string   `json:"phone"`
	StakeholderClass *string   `json:"stakeholderClass"`
	Roles            *[]string `json:"roles"`
	Qualifications   *[]string `json:"qualifications"`
	Active           *bool     `json:"active"`
}

func (s *Server) validateMemberInput(in *memberInput, create bool) error {
	pol, err := s.currentPolicy()
	if err != nil {
		return err
	}
	if create || in.Name != nil {
		if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
			return badField("name", "is required")
		}
		if utf8.RuneCountInString(*in.Name) > 200 {
			return badField("name", "must be at most 200 characters")
		}
	}
	if create || in.Email != nil {
		if in.Email == nil || *in.Email == "" {
			return badField("email", "is required")
		}
		if a, err := mail.ParseAddress(*in.Email); err != nil || a.Address != *in.Email || len(*in.Email) > 254 {
			return badField("email", "must be a plain email address like ada@example.org")
		}
	}
	if in.Phone != nil && utf8.RuneCountInString(*in.Phone) > 40 {
		return badField("phone", "must be at most 40 characters")
	}
	if create || in.Roles != nil {
		if in.Roles == nil || len(*in.Roles) == 0 {
			return badField("roles", "must list at least one of worker, customer, staff")
		}
		for _, r := range *in.Roles {
			if !slices.Contains(allRoles, r) {
				return badField("roles", fmt.Sprintf("%q is not one of worker, customer, staff", r))
			}
		}
		r := slices.Clone(*in.Roles)
		slices.Sort(r)
		*in.Roles = slices.Compact(r)
	}
	if in.Qualifications != nil {
		kinds := kindsFor(s.vertical())
		for _, q := range *in.Qualifications {
			if _, ok := kinds[q]; !ok {
				return badField("qualifications", fmt.Sprintf("%q is not a kind of work of this co-op (%s)", q, kindList(s.vertical())))
			}
		}
	}
	if pol.Governance.Model == policy.MultiStakeholder {
		if create && in.StakeholderClass == nil {
			return badField("stakeholderClass", "is required under multi-stakeholder governance")
		}
		if in.StakeholderClass != nil && !pol.HasClass(*in.StakeholderClass) {
			return badField("stakeholderClass", "must be one of the policy's stakeholder classes")
		}
	} else if in.StakeholderClass != nil && utf8.RuneCountInString(*in.StakeholderClass) > 100 {
		return badField("stakeholderClass", "must be at most 100 characters")
	}
	return nil
}

func newToken() (plain string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	plain = "cpt_" + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(plain))
	return plain, h[:]
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// emailTaken reports whether another member (not except) has the email, holding a
// transaction lock on the address until tx ends, so that a concurrent request for the
// same address waits and then sees this one's row. Checking first keeps the unique index
// from ever refusing an insert: PostgreSQL would log the refusal with the address in its
// DETAIL line, and the server log is no place for personal data.
func emailTaken(ctx context.Context, tx pgx.Tx, email string, except int64) (bool, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('member-email:' || lower($1), 0))`, email); err != nil {
		return false, err
	}
	var taken bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE lower(email) = lower($1) AND id <> $2)`, email, except).Scan(&taken)
	return taken, err
}

var errEmailTaken = conflict("email", "a member with this email already exists")

func (s *Server) createMember(r *http.Request, p principal) (int, any, error) {
	var in memberInput
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := s.validateMemberInput(&in, true); err != nil {
		return 0, nil, err
	}
	class := ""
	if in.StakeholderClass != nil {
		class = *in.StakeholderClass
	}
	quals := []string{}
	if in.Qualifications != nil {
		quals = *in.Qualifications
	}
	active := true
	if in.Active != nil {
		active = *in.Active
	}
	plain, hash := newToken()
	var m Member
	err := pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		if err := setAuditActor(r.Context(), tx, p); err != nil {
			return err
		}
		taken, err := emailTaken(r.Context(), tx, *in.Email, 0)
		if err != nil {
			return err
		}
		if taken {
			return errEmailTaken
		}
		m, err = scanMember(tx.QueryRow(r.Context(), `INSERT INTO members (name, email, phone, stakeholder_class, roles, qualifications, active)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+memberCols, in.Name, in.Email, in.Phone, class, *in.Roles, quals, active))
		if err != nil {
			return err
		}
		_, err = tx.Exec(r.Context(), `INSERT INTO member_tokens (token_hash, member_id) VALUES ($1, $2)`, hash, m.ID)
		return err
	})
	if isUniqueViolation(err) {
		return 0, nil, errEmailTaken
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"member": m, "token": plain}, nil
}

func (s *Server) listMembers(r *http.Request, p principal) (int, any, error) {
	rows, err := s.pool.Query(r.Context(), `SELECT `+memberCols+` FROM members ORDER BY id`)
	if err != nil {
		return 0, nil, err
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Member, error) { return scanMember(row) })
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"members": ms}, nil
}

func (s *Server) loadMember(ctx context.Context, q pgx.Tx, id int64) (Member, error) {
	var row pgx.Row
	if q != nil {
		row = q.QueryRow(ctx, `SELECT `+memberCols+` FROM members WHERE id = $1`, id)
	} else {
		row = s.pool.QueryRow(ctx, `SELECT `+memberCols+` FROM members WHERE id = $1`, id)
	}
	m, err := scanMember(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, notFound("member")
	}
	return m, err
}

func (s *Server) getMember(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := selfOrAdmin(p, id); err != nil {
		return 0, nil, err
	}
	m, err := s.loadMember(r.Context(), nil, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, m, nil
}

func (s *Server) updateMember(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	var in memberInput
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := s.validateMemberInput(&in, false); err != nil {
		return 0, nil, err
	}
	var m Member
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		if err := setAuditActor(r.Context(), tx, p); err != nil {
			return err
		}
		if in.Email != nil {
			taken, err := emailTaken(r.Context(), tx, *in.Email, id)
			if err != nil {
				return err
			}
			if taken {
				return errEmailTaken
			}
		}
		var err error
		m, err = scanMember(tx.QueryRow(r.Context(), `UPDATE members SET
			name = coalesce($2, name), email = coalesce($3, email), phone = coalesce($4, phone),
			stakeholder_class = coalesce($5, stakeholder_class), roles = coalesce($6, roles),
			qualifications = coalesce($7, qualifications), active = coalesce($8, active),
			available = available AND coalesce($8, active)
			WHERE id = $1 AND erased_at IS NULL RETURNING `+memberCols, id, in.Name, in.Email, in.Phone, in.StakeholderClass, in.Roles, in.Qualifications, in.Active))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("member")
		}
		if err != nil {
			return err
		}
		// Deactivation revokes every token: an inactive member signs in no more until staff
		// reactivate them and mint a new one.
		if !m.Active {
			_, err = tx.Exec(r.Context(), `DELETE FROM member_tokens WHERE member_id = $1`, id)
		}
		return err
	})
	if isUniqueViolation(err) {
		return 0, nil, errEmailTaken
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, m, nil
}

func (s *Server) setAvailability(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := selfOrAdmin(p, id); err != nil {
		return 0, nil, err
	}
	var in struct {
		Available *bool `json:"available"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Available == nil {
		return 0, nil, badField("available", "is required (true or false)")
	}
	m, err := s.loadMember(r.Context(), nil, id)
	if err != nil {
		return 0, nil, err
	}
	if *in.Available && (!m.Active || !slices.Contains(m.Roles, "worker")) {
		return 0, nil, conflict("available", "only active workers can be available")
	}
	m, err = scanMember(s.pool.QueryRow(r.Context(), `UPDATE members SET available = $2 WHERE id = $1 RETURNING `+memberCols, id, *in.Available))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, m, nil
}

// createToken mints a new token for an active member, by the member or staff.
func (s *Server) createToken(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := selfOrAdmin(p, id); err != nil {
		return 0, nil, err
	}
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	plain, hash := newToken()
	var tok Token
	err = s.pool.QueryRow(r.Context(), `INSERT INTO member_tokens (token_hash, member_id)
		SELECT $1, id FROM members WHERE id = $2 AND active AND erased_at IS NULL RETURNING id, created_at`, hash, id).Scan(&tok.ID, &tok.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := s.loadMember(r.Context(), nil, id); err != nil {
			return 0, nil, err
		}
		return 0, nil, conflict("", "the member is not active (or erased): no new tokens")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"memberId": id, "id": tok.ID, "createdAt": tok.CreatedAt, "token": plain}, nil
}

// Token is a member's token as the API lists it: never the token itself, which only
// its creator saw once, nor its hash.
type Token struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	// Current says the token is the one the request was made with.
	Current bool `json:"current"`
}

// listTokens lists a member's tokens, to the member and staff.
func (s *Server) listTokens(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := selfOrAdmin(p, id); err != nil {
		return 0, nil, err
	}
	if _, err := s.loadMember(r.Context(), nil, id); err != nil {
		return 0, nil, err
	}
	rows, err := s.pool.Query(r.Context(), `SELECT id, created_at FROM member_tokens WHERE member_id = $1 ORDER BY id`, id)
	if err != nil {
		return 0, nil, err
	}
	toks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Token, error) {
		var t Token
		err := row.Scan(&t.ID, &t.CreatedAt)
		t.Current = !p.admin && t.ID == p.tokenID
		return t, err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"memberId": id, "tokens": toks}, nil
}

// revokeToken deletes one of a member's tokens, by the member (also the token in use)
// or staff.
func (s *Server) revokeToken(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	tid, err := pathID(r, "tokenId")
	if err != nil {
		return 0, nil, err
	}
	if err := selfOrAdmin(p, id); err != nil {
		return 0, nil, err
	}
	tag, err := s.pool.Exec(r.Context(), `DELETE FROM member_tokens WHERE member_id = $1 AND id = $2`, id, tid)
	if err != nil {
		return 0, nil, err
	}
	if tag.RowsAffected() == 0 {
		return 0, nil, notFound("token")
	}
	return http.StatusOK, map[string]any{"memberId": id, "id": tid, "revoked": true}, nil
}

func (s *Server) getPolicy(r *http.Request, p principal) (int, any, error) {
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pol, nil
}

func (s *Server) createBlock(r *http.Request, p principal) (int, any, error) {
	var in struct {
		WorkerID   int64 `json:"workerId"`
		CustomerID int64 `json:"customerId"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	customer := p.memberID
	if p.admin {
		if in.CustomerID <= 0 {
			return 0, nil, badField("customerId", "is required when staff block on a customer's behalf")
		}
		customer = in.CustomerID
	} else if in.CustomerID != 0 && in.CustomerID != p.memberID {
		return 0, nil, forbidden("members may only block for themselves")
	}
	if in.WorkerID <= 0 {
		return 0, nil, badField("workerId", "must be a positive integer id")
	}
	if in.WorkerID == customer {
		return 0, nil, badField("workerId", "cannot block yourself")
	}
	tag, err := s.pool.Exec(r.Context(), `INSERT INTO blocks (customer_id, worker_id)
		SELECT $1, id FROM members WHERE id = $2 ON CONFLICT DO NOTHING`, customer, in.WorkerID)
	if err != nil {
		return 0, nil, err
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := s.pool.QueryRow(r.Context(), `SELECT EXISTS (SELECT 1 FROM members WHERE id = $1)`, in.WorkerID).Scan(&exists); err != nil {
			return 0, nil, err
		}
		if !exists {
			return 0, nil, notFound("worker")
		}
	}
	return http.StatusCreated, map[string]any{"customerId": customer, "workerId": in.WorkerID}, nil
}

func (s *Server) deleteBlock(r *http.Request, p principal) (int, any, error) {
	wid, err := pathID(r, "workerId")
	if err != nil {
		return 0, nil, err
	}
	customer := p.memberID
	if p.admin {
		return 0, nil, forbidden("a block is lifted by the customer who set it")
	}
	tag, err := s.pool.Exec(r.Context(), `DELETE FROM blocks WHERE customer_id = $1 AND worker_id = $2`, customer, wid)
	if err != nil {
		return 0, nil, err
	}
	if tag.RowsAffected() == 0 {
		return 0, nil, notFound("block")
	}
	return http.StatusOK, map[string]any{"customerId": customer, "workerId": wid, "blocked": false}, nil
}
