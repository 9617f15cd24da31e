package server

import (
	"context"
	"crypto/rand"
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

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/credentials"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/sessions"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

var allRoles = []string{"worker", "customer", "staff", "merchant"}

// Member is a member as the API shows it.
type Member = members.Member

type memberInput struct {
	Name             *string   `json:"name"`
	Email            *string   `json:"email"`
	Phone            *string   `json:"phone"`
	StakeholderClass *string   `json:"stakeholderClass"`
	Roles            *[]string `json:"roles"`
	Qualifications   *[]string `json:"qualifications"`
	Active           *bool     `json:"active"`
}

// fields are the member's fields to write.
func (in *memberInput) fields() members.Fields {
	return members.Fields{Name: in.Name, Email: in.Email, Phone: in.Phone, StakeholderClass: in.StakeholderClass,
		Roles: in.Roles, Qualifications: in.Qualifications, Active: in.Active}
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
			return badField("roles", "must list at least one of worker, customer, staff, merchant")
		}
		for _, r := range *in.Roles {
			if !slices.Contains(allRoles, r) {
				return badField("roles", fmt.Sprintf("%q is not one of worker, customer, staff, merchant", r))
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
	plain = members.TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	h := members.HashToken(plain)
	return plain, h[:]
}

var errEmailTaken = conflict("email", "a member with this email already exists")

// emailErr answers members.ErrEmailTaken as 409 naming the field.
func emailErr(err error) error {
	if errors.Is(err, members.ErrEmailTaken) {
		return errEmailTaken
	}
	return err
}

func (s *Server) createMember(r *http.Request, p principal) (int, any, error) {
	var in memberInput
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := s.validateMemberInput(&in, true); err != nil {
		return 0, nil, err
	}
	// A member registered inactive gets no token: an inactive member does not sign in
	// until staff activate them and mint one (POST /v1/members/{id}/tokens).
	var plain string
	var hash []byte
	if in.Active == nil || *in.Active {
		plain, hash = newToken()
	}
	var m Member
	err := pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		q := members.On(tx)
		if err := q.SetAuditActor(r.Context(), auditActor(p), p.credential().Audit()); err != nil {
			return err
		}
		taken, err := q.EmailTaken(r.Context(), *in.Email, 0)
		if err != nil {
			return err
		}
		if taken {
			return errEmailTaken
		}
		m, err = q.Create(r.Context(), in.fields(), hash)
		return err
	})
	if err != nil {
		return 0, nil, emailErr(err)
	}
	out := map[string]any{"member": m}
	if plain != "" {
		out["token"] = plain
	}
	return http.StatusCreated, out, nil
}

func (s *Server) listMembers(r *http.Request, p principal) (int, any, error) {
	ms, err := members.On(s.pool).List(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"members": ms}, nil
}

// loadMember reads a member, 404 when there is none.
func (s *Server) loadMember(ctx context.Context, id int64) (Member, error) {
	m, err := members.On(s.pool).Get(ctx, id)
	return m, asNotFound(err, "member")
}

func (s *Server) getMember(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	m, err := s.loadMember(r.Context(), id)
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
	// A member deactivated or no longer a worker takes no more work: their open offers are
	// withdrawn and the work moved on, in this transaction; a worker whose qualifications
	// change loses the offers of kinds no longer among them.
	departs := (in.Active != nil && !*in.Active) || (in.Roles != nil && !slices.Contains(*in.Roles, "worker"))
	requalified := in.Qualifications != nil
	var m Member
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		q := members.On(tx)
		if err := q.SetAuditActor(r.Context(), auditActor(p), p.credential().Audit()); err != nil {
			return err
		}
		if departs || requalified {
			if err := lockOffersTo(r.Context(), tx, id); err != nil {
				return err
			}
		}
		if in.Email != nil {
			taken, err := q.EmailTaken(r.Context(), *in.Email, id)
			if err != nil {
				return err
			}
			if taken {
				return errEmailTaken
			}
		}
		var err error
		m, err = q.Update(r.Context(), id, in.fields())
		if errors.Is(err, store.ErrNotFound) {
			return notFound("member")
		}
		if err != nil {
			return err
		}
		unroled := in.Roles != nil && !slices.Contains(*in.Roles, "worker")
		if deactivated := in.Active != nil && !*in.Active; unroled || deactivated {
			// Checked with the member's row locked by the update: no accept of theirs can
			// slip in before the commit. Work they took could no longer be completed
			// (its payment needs a worker who can sign in) nor go to anyone else.
			n, err := work.On(tx).TakenBy(r.Context(), id)
			if err != nil {
				return err
			}
			switch {
			case n > 0 && unroled:
				return conflict("roles", fmt.Sprintf("the member has %d work item(s) under way as its worker (accepted or started): they complete them, or they are cancelled, before the worker role goes", n))
			case n > 0:
				return conflict("active", fmt.Sprintf("the member has %d work item(s) under way as its worker (accepted or started): they complete them, or they are cancelled, before the member is deactivated", n))
			}
		}
		if !departs && !requalified {
			return nil
		}
		return s.withdrawOffersTo(r.Context(), tx, id, !departs)
	})
	if err != nil {
		return 0, nil, emailErr(err)
	}
	return http.StatusOK, m, nil
}

func (s *Server) setAvailability(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
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
	// The shortcut of the schedule: available is every day, all day (the dated
	// exceptions stay as they are); not available clears the schedule.
	sc := Schedule{}
	if *in.Available {
		sc = Schedule{Weekly: allWeek()}
	}
	if _, err := s.SetWorkerSchedule(r.Context(), id, sc, *in.Available); err != nil {
		err = asSelf(p, id, err)
		var ae *apiError
		if errors.As(err, &ae) && ae.field == "weekly" {
			ae.field = "available"
		}
		return 0, nil, err
	}
	m, err := s.loadMember(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, m, nil
}

// createToken mints a new token for an active member, by the member or staff (not for a
// member who claimed their account: 403).
func (s *Server) createToken(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	plain, hash := newToken()
	by := members.IssuedByMember
	if p.admin {
		by = members.IssuedByStaff
	}
	var tok Token
	err = s.audited(r.Context(), p, func(tx pgx.Tx) (err error) {
		tok, err = members.On(tx).CreateToken(r.Context(), id, hash, by, p.credential())
		return err
	})
	if err := s.credentialErr(r.Context(), err, id, "tokens"); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"memberId": id, "id": tok.ID, "createdAt": tok.CreatedAt, "issuedBy": tok.IssuedBy, "token": plain}, nil
}

// errCredentialGone answers a request whose credential a claim or a release of the account
// ended while it waited for the member's row.
var errCredentialGone = &apiError{status: http.StatusUnauthorized, field: "Authorization",
	message: "the token (or app session) this request came with has ended: a claim or a release of the account ended it"}

// audited runs fn in a transaction that names the caller in the member audit.
func (s *Server) audited(ctx context.Context, p principal, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := members.On(tx).SetAuditActor(ctx, auditActor(p), p.credential().Audit()); err != nil {
			return err
		}
		return fn(tx)
	})
}

// credentialErr is the answer to the store's refusal to issue member id a credential
// (what: "tokens", "sign-in codes"): 404 when there is no such member, 409 when they are
// inactive or erased, 403 when staff issue one to a member who claimed their account, 401
// when the request's own credential was ended meanwhile (by a claim or a release).
func (s *Server) credentialErr(ctx context.Context, err error, id int64, what string) error {
	switch {
	case errors.Is(err, store.ErrCredentialGone):
		return errCredentialGone
	case errors.Is(err, store.ErrClaimed):
		return forbidden(fmt.Sprintf("member %d has claimed their account: only they issue its %s (staff may release the claim, DELETE /v1/members/%d/claim, which ends every credential of theirs and shows in their audit)", id, what, id))
	case errors.Is(err, store.ErrNotFound):
		if _, err := s.loadMember(ctx, id); err != nil {
			return err
		}
		return conflict("", "the member is not active (or erased): no new "+what)
	}
	return err
}

// claimAccount: a member claims their account, with any token of theirs or from a session
// of the members' app. From then on staff issue them no token and no sign-in code. The
// claim answers with a new token (shown once) and ends every other way in: the member's
// other tokens, their sign-in codes and their sessions, but the session claiming (which
// ends with the new token). So a credential staff issued before, or made with one staff
// issued, ends too; whoever claims first holds the account, and a member whose access
// ended asks staff for a release (audited). Claiming again keeps the first time and does
// the same: a member who fears someone else holds a way in ends it.
func (s *Server) claimAccount(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if p.admin {
		return 0, nil, forbidden("a member claims their own account; staff cannot claim it for them")
	}
	if err := selfOrAdmin(p, id); err != nil {
		return 0, nil, err
	}
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	plain, hash := newToken()
	var at time.Time
	var tokenID int64
	var revoked []int64
	err = s.audited(r.Context(), p, func(tx pgx.Tx) (err error) {
		at, tokenID, revoked, err = members.On(tx).Claim(r.Context(), id, s.now(), p.credential(), hash)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, conflict("", "the member is not active (or erased): nothing to claim")
	}
	if errors.Is(err, store.ErrCredentialGone) {
		return 0, nil, errCredentialGone
	}
	if err != nil {
		return 0, nil, err
	}
	if revoked == nil {
		revoked = []int64{}
	}
	return http.StatusOK, map[string]any{"memberId": id, "claimedAt": at, "id": tokenID, "token": plain, "revokedTokens": revoked}, nil
}

// requireFreshSession refuses what a members' app session may do only soon after its
// member signed in (sessions.FreshFor): what turns it into a lasting credential or cannot be
// undone, which a session someone else got hold of later (a browser left signed in) must
// not do (a session someone else got hold of would otherwise turn itself into a lasting
// key, or erase the member's data); the routes of freshActions. A token, or staff's, is not
// a session: nil.
func (s *Server) requireFreshSession(p principal, what string) error {
	if p.session == nil || sessions.Fresh(p.signedIn, s.now()) {
		return nil
	}
	return &apiError{status: http.StatusForbidden, field: "Authorization", message: fmt.Sprintf(
		"%s from the members' app takes a sign-in of the last %d minutes: sign in again, then try again", what, int(sessions.FreshFor.Minutes()))}
}

// releaseClaim: staff release a member's claim of their account, for a member who lost
// every credential; the release ends all of the member's tokens, codes and sessions, and
// shows in the member's audit.
func (s *Server) releaseClaim(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	err = s.audited(r.Context(), p, func(tx pgx.Tx) error {
		return members.On(tx).ReleaseClaim(r.Context(), id)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil, notFound("member")
	case errors.Is(err, members.ErrNotClaimed):
		return 0, nil, conflict("", "the member has not claimed their account")
	case err != nil:
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"memberId": id, "claimed": false}, nil
}

// memberAuditOf lists the member audit of one member, newest first, to the member and
// staff: admission, roles, activity, and every credential issued or revoked, with who.
func (s *Server) memberAuditOf(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.loadMember(r.Context(), id); err != nil {
		return 0, nil, err
	}
	f, err := auditFilter(r)
	if err != nil {
		return 0, nil, err
	}
	es, err := members.On(s.pool).Audit(r.Context(), &id, f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"memberId": id, "entries": es}, nil
}

// Token is a member's token as the API lists it.
type Token = members.Token

// listTokens lists a member's tokens, to the member and staff.
func (s *Server) listTokens(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.loadMember(r.Context(), id); err != nil {
		return 0, nil, err
	}
	toks, err := members.On(s.pool).Tokens(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	for i := range toks {
		toks[i].Current = !p.admin && toks[i].ID == p.tokenID
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
	err = s.audited(r.Context(), p, func(tx pgx.Tx) error {
		return members.On(tx).RevokeToken(r.Context(), id, tid, p.credential())
	})
	if errors.Is(err, store.ErrCredentialGone) {
		return 0, nil, errCredentialGone
	}
	if err != nil {
		return 0, nil, asNotFound(err, "token")
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
	// The worker's offers of the customer's work are withdrawn with the block, in its
	// transaction (locked first, as every change that ends offers does).
	err := pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		if err := lockOffersTo(r.Context(), tx, in.WorkerID); err != nil {
			return err
		}
		// Then the customer's and the worker's rows, in the order of their ids (the order
		// of an erasure): a block set during either's erasure waits for it and is refused,
		// rather than kept after it.
		for _, id := range slices.Sorted(slices.Values([]int64{customer, in.WorkerID})) {
			var err error
			switch {
			case id == in.WorkerID:
				// A block is of a worker: a member who is none (never was, or was erased)
				// answers as an id nobody has, so blocks tell no one who the members are.
				_, err = lockKept(r.Context(), tx, id)
				if err == nil {
					var found []int64
					if found, err = credentials.On(tx).Workers(r.Context(), []int64{id}); err == nil && len(found) == 0 {
						err = notFound("worker")
					}
				}
				if isNotFound(err) || errors.Is(err, errErased) {
					err = notFound("worker")
				}
			case !p.admin:
				err = lockSelf(r.Context(), tx, customer)
			default:
				err = activeMemberRef(r.Context(), tx, "customerId", customer)
			}
			if err != nil {
				return err
			}
		}
		if err := members.On(tx).Block(r.Context(), customer, in.WorkerID); err != nil {
			return err
		}
		return s.withdrawOffersTo(r.Context(), tx, in.WorkerID, true)
	})
	if err != nil {
		return 0, nil, asNotFound(err, "worker")
	}
	return http.StatusCreated, map[string]any{"customerId": customer, "workerId": in.WorkerID}, nil
}

// listBlocks lists the workers the member blocked (their own; staff read a customer's
// blocks in the customer's export).
func (s *Server) listBlocks(r *http.Request, p principal) (int, any, error) {
	if p.admin {
		return 0, nil, forbidden("a member reads their own blocks")
	}
	ids, err := members.On(s.pool).Blocked(r.Context(), p.memberID)
	if err != nil {
		return 0, nil, err
	}
	if ids == nil {
		ids = []int64{}
	}
	return http.StatusOK, map[string]any{"workerIds": ids}, nil
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
	err = members.On(s.pool).Unblock(r.Context(), customer, wid)
	if err != nil {
		return 0, nil, asNotFound(err, "block")
	}
	return http.StatusOK, map[string]any{"customerId": customer, "workerId": wid, "blocked": false}, nil
}
