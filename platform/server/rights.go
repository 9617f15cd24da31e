package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"
)

// exportMember returns everything the service holds about a member, as JSON. Their
// payments carry the idempotency keys that are theirs (see memberKeysSQL) and work items'
// keys; another client's key on a payment to them is that client's and left out.
func (s *Server) exportMember(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := selfOrAdmin(p, id); err != nil {
		return 0, nil, err
	}
	var doc json.RawMessage
	err = s.pool.QueryRow(r.Context(), `SELECT json_build_object(
		'member', (SELECT row_to_json(m) FROM members m WHERE m.id = $1),
		'tokens', (SELECT coalesce(json_agg(json_build_object('createdAt', t.created_at) ORDER BY t.created_at), '[]') FROM member_tokens t WHERE t.member_id = $1),
		'work', (SELECT coalesce(json_agg(w ORDER BY w.id), '[]') FROM work_items w WHERE w.customer_id = $1 OR w.worker_id = $1),
		'workHistory', (SELECT coalesce(json_agg(h ORDER BY h.id), '[]') FROM work_history h
			WHERE h.actor_id = $1 OR h.worker_id = $1 OR h.work_id IN (SELECT id FROM work_items WHERE customer_id = $1)),
		'offers', (SELECT coalesce(json_agg(o ORDER BY o.id), '[]') FROM offers o WHERE o.worker_id = $1),
		'blocks', (SELECT coalesce(json_agg(b), '[]') FROM blocks b WHERE b.customer_id = $1),
		'payments', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', py.id, 'workId', py.work_id, 'payerId', py.payer_id,
			'workerId', py.worker_id, 'grossCents', py.gross_cents, 'surgeCents', py.surge_cents, 'split', py.split,
			'refunded', py.refund_tx_id IS NOT NULL, 'createdAt', py.created_at)
			|| CASE WHEN `+memberKeysSQL+` OR py.idempotency_scope = '`+workScope+`'
				THEN jsonb_build_object('idempotencyKey', py.idempotency_key) ELSE '{}' END ORDER BY py.id), '[]')
			FROM payments py WHERE py.payer_id = $1 OR py.worker_id = $1),
		'ledgerEntries', (SELECT coalesce(json_agg(json_build_object('transactionId', e.tx_id, 'account', e.account, 'amountCents', e.amount_cents) ORDER BY e.id), '[]')
			FROM ledger_entries e WHERE e.member_id = $1),
		'ballots', (SELECT coalesce(json_agg(b ORDER BY b.proposal_id), '[]') FROM ballots b WHERE b.member_id = $1),
		'proposals', (SELECT coalesce(json_agg(json_build_object('id', pr.id, 'title', pr.title, 'body', pr.body,
			'field', pr.field, 'status', pr.status, 'createdAt', pr.created_at) ORDER BY pr.id), '[]') FROM proposals pr WHERE pr.created_by = $1),
		'delegation', (SELECT row_to_json(d) FROM delegations d WHERE d.member_id = $1),
		'delegatedToMe', (SELECT coalesce(json_agg(d.member_id), '[]') FROM delegations d WHERE d.delegate_id = $1)
	) WHERE EXISTS (SELECT 1 FROM members WHERE id = $1)`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, notFound("member")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, doc, nil
}

// eraseMember removes a member's personal data. The member row stays, anonymised, so
// the ledger (which is append-only and keeps balancing), the ballots and the proposals
// still refer to it; its class goes with the rest (outside multi-stakeholder governance
// it is free text). Addresses and notes in their work and the words they wrote (the
// reasons they gave, the idempotency keys of their payments, also staff's for payments
// on their behalf, the title and body of their proposals) are wiped; tokens, blocks and
// delegations go.
func (s *Server) eraseMember(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := selfOrAdmin(p, id); err != nil {
		return 0, nil, err
	}
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		if err := setAuditActor(r.Context(), tx, p); err != nil {
			return err
		}
		var erased bool
		err := tx.QueryRow(r.Context(), `SELECT erased_at IS NOT NULL FROM members WHERE id = $1 FOR UPDATE`, id).Scan(&erased)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("member")
		}
		if err != nil {
			return err
		}
		if erased {
			return conflict("", "the member's data has already been erased")
		}
		var busy bool
		if err := tx.QueryRow(r.Context(), `SELECT EXISTS (SELECT 1 FROM work_items WHERE (customer_id = $1 OR worker_id = $1)
			AND state IN ('offered', 'accepted', 'in_progress'))`, id).Scan(&busy); err != nil {
			return err
		}
		if busy {
			return conflict("", "the member has work under way; finish or cancel it first")
		}
		for _, q := range []string{
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
				WHERE ` + memberKeysSQL,
			`DELETE FROM member_tokens WHERE member_id = $1`,
			`DELETE FROM blocks WHERE customer_id = $1 OR worker_id = $1`,
			`DELETE FROM delegations WHERE member_id = $1 OR delegate_id = $1`,
			`UPDATE work_history SET note = '' WHERE work_id IN (SELECT id FROM work_items WHERE customer_id = $1 OR worker_id = $1)`,
			`UPDATE work_items SET details = '{}' WHERE customer_id = $1 OR worker_id = $1`,
			`INSERT INTO work_history (work_id, from_state, to_state, note)
				SELECT id, state, 'cancelled', 'customer data erased' FROM work_items WHERE customer_id = $1 AND state = 'requested'`,
			`UPDATE work_items SET state = 'cancelled', updated_at = now() WHERE customer_id = $1 AND state = 'requested'`,
		} {
			if _, err := tx.Exec(r.Context(), q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	s.log.Info("member data erased", "memberId", id)
	return http.StatusOK, map[string]any{"memberId": id, "erased": true}, nil
}
