-- +goose Up
-- A member's notifications: what the co-op did that concerns them while they were not
-- looking. The database writes them, in the transaction of what they tell (triggers
-- below), so no way of doing it forgets to; the service only reads them and marks them
-- read, and deletes them a year after. They carry ids and outcomes, never anyone's words or
-- name. An erased member gets none, and their own go with their data.
--   workAccepted   a worker accepted the customer's request (to the customer);
--   workCompleted  the work was completed (to the customer and the worker, not whoever did it);
--   workCancelled  the work was cancelled (to the customer and its worker, not whoever did it);
--   paymentReceived a payment to a worker (a tip, a milestone accepted, staff's), but the
--                  one that completes work, which workCompleted tells (to the worker);
--   paymentRefunded a payment refunded by its worker or staff (to its payer, and to its
--                  worker when staff refunded it; a refund by vote is refundDecided);
--   refundDecided  a refund put to the vote was decided (to who asked, the payer and the
--                  worker paid; outcome refunded, rejected or failed);
--   disbursementDecided  a disbursement was decided, by vote or by staff (to who asked and
--                  the member paid; outcome paid, rejected or failed);
--   proposalClosed a proposal closed (to its author and every member who voted; outcome
--                  passed or rejected);
--   proposalApplied what became of the change a passed proposal carries (to the same;
--                  outcome applied, refused or failed): the members learn that what they
--                  voted is what the system does, or why not;
--   delegationEnded the member's delegate's data was erased, which ends the delegation.
CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    member_id  bigint NOT NULL REFERENCES members,
    event      text NOT NULL CHECK (event IN ('workAccepted', 'workCompleted', 'workCancelled',
        'paymentReceived', 'paymentRefunded', 'refundDecided', 'disbursementDecided', 'proposalClosed', 'proposalApplied', 'delegationEnded')),
    subject_id bigint,
    outcome    text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    read_at    timestamptz,
    CHECK ((event = 'delegationEnded') = (subject_id IS NULL))
);
CREATE INDEX notifications_member ON notifications (member_id, id);
CREATE INDEX notifications_unread ON notifications (member_id) WHERE read_at IS NULL;
-- The service deletes them a year after (notifications.Kept).
CREATE INDEX notifications_at ON notifications (at);

-- notify records one notification for each member of whom who is not erased (once each;
-- NULLs are nobody). It holds each member's row for key share, as the foreign key would:
-- an erasure under way is waited for and then seen, so an erased member gets none (the
-- erasure deletes theirs before it commits).
--
-- The database's owner writes them: notify and the trigger functions below run as their
-- owner (SECURITY DEFINER, with the search_path of this migration), and nobody else may
-- call notify, so the serving role reads and marks notifications but cannot write one
-- (store.GrantServing revokes its INSERT).
-- +goose StatementBegin
CREATE FUNCTION notify(who bigint[], what text, subject bigint, result text, stamp timestamptz) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    INSERT INTO notifications (member_id, event, subject_id, outcome, at)
    SELECT m.id, what, subject, result, stamp FROM members m WHERE m.id = ANY (who) AND m.erased_at IS NULL
    ORDER BY m.id FOR KEY SHARE OF m
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION notify(bigint[], text, bigint, text, timestamptz) FROM PUBLIC;

-- A work item's transitions (its history) tell its parties, but not whoever made them
-- (array_remove with a NULL actor, staff or the service itself, removes nobody).
-- +goose StatementBegin
CREATE FUNCTION work_history_notify() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE customer bigint;
BEGIN
    SELECT customer_id INTO customer FROM work_items WHERE id = NEW.work_id;
    PERFORM notify(array_remove(CASE NEW.to_state
            WHEN 'accepted' THEN ARRAY[customer]
            ELSE ARRAY[customer, NEW.worker_id] END, NEW.actor_id),
        'work' || initcap(NEW.to_state), NEW.work_id, '', NEW.at);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER work_history_notify AFTER INSERT ON work_history
    FOR EACH ROW WHEN (NEW.to_state IN ('accepted', 'completed', 'cancelled'))
    EXECUTE FUNCTION work_history_notify();

-- The payment that completes work has the key work-<work id> in the scope work (the
-- service's completeWork); a milestone's has work-<id>-milestone-<n>.
-- +goose StatementBegin
CREATE FUNCTION payments_notify_received() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify(ARRAY[NEW.worker_id], 'paymentReceived', NEW.id, '', NEW.created_at);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER payments_notify_received AFTER INSERT ON payments
    FOR EACH ROW WHEN (NOT (NEW.idempotency_scope = 'work' AND NEW.idempotency_key = 'work-' || NEW.work_id))
    EXECUTE FUNCTION payments_notify_received();

-- +goose StatementBegin
CREATE FUNCTION payments_notify_refunded() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify(CASE NEW.refunded_by WHEN 'staff' THEN ARRAY[NEW.payer_id, NEW.worker_id] ELSE ARRAY[NEW.payer_id] END,
        'paymentRefunded', NEW.id, '', now());
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER payments_notify_refunded AFTER UPDATE OF refund_tx_id ON payments
    FOR EACH ROW WHEN (OLD.refund_tx_id IS NULL AND NEW.refund_tx_id IS NOT NULL AND NEW.refunded_by IN ('staff', 'worker'))
    EXECUTE FUNCTION payments_notify_refunded();

-- +goose StatementBegin
CREATE FUNCTION refund_requests_notify() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify(ARRAY[NEW.requested_by, py.payer_id, py.worker_id], 'refundDecided', NEW.payment_id, NEW.status, NEW.decided_at)
        FROM payments py WHERE py.id = NEW.payment_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER refund_requests_notify AFTER UPDATE OF status ON refund_requests
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending')
    EXECUTE FUNCTION refund_requests_notify();

-- A disbursement is decided when a vote closes it, or at once when staff approve it.
-- +goose StatementBegin
CREATE FUNCTION disbursements_notify() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify(ARRAY[NEW.requested_by, NEW.member_id], 'disbursementDecided', NEW.id, NEW.status, coalesce(NEW.decided_at, NEW.created_at));
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER disbursements_notify_decided AFTER UPDATE OF status ON disbursements
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending')
    EXECUTE FUNCTION disbursements_notify();
CREATE TRIGGER disbursements_notify_approved AFTER INSERT ON disbursements
    FOR EACH ROW WHEN (NEW.status <> 'pending')
    EXECUTE FUNCTION disbursements_notify();

-- A proposal's audience: every member who voted on it, and its author.
-- +goose StatementBegin
CREATE FUNCTION proposal_audience(proposal bigint, author bigint) RETURNS bigint[] LANGUAGE sql STABLE AS $$
    SELECT array_append(ARRAY(SELECT b.member_id FROM ballots b WHERE b.proposal_id = proposal), author)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION proposals_notify() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify(proposal_audience(NEW.id, NEW.created_by),
        'proposalClosed', NEW.id,
        CASE WHEN coalesce((NEW.result->>'passed')::boolean, false) THEN 'passed' ELSE 'rejected' END,
        coalesce(NEW.closed_at, now()));
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER proposals_notify AFTER UPDATE OF status ON proposals
    FOR EACH ROW WHEN (OLD.status = 'open' AND NEW.status = 'closed')
    EXECUTE FUNCTION proposals_notify();

-- +goose StatementBegin
CREATE FUNCTION proposals_notify_application() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify(proposal_audience(NEW.id, NEW.created_by),
        'proposalApplied', NEW.id, NEW.application, coalesce(NEW.application_at, now()));
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER proposals_notify_application AFTER UPDATE OF application ON proposals
    FOR EACH ROW WHEN (OLD.application = 'pending' AND NEW.application IN ('applied', 'refused', 'failed'))
    EXECUTE FUNCTION proposals_notify_application();

-- A delegation deleted because its delegate's data was erased (the erasure marks the
-- member erased first) tells the member who delegated; one the member ends, or their own
-- erasure, tells nobody.
-- +goose StatementBegin
CREATE FUNCTION delegations_notify() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM members WHERE id = OLD.delegate_id AND erased_at IS NOT NULL) THEN
        PERFORM notify(ARRAY[OLD.member_id], 'delegationEnded', NULL, '', now());
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER delegations_notify AFTER DELETE ON delegations
    FOR EACH ROW EXECUTE FUNCTION delegations_notify();

-- +goose Down
DROP TRIGGER delegations_notify ON delegations;
DROP TRIGGER proposals_notify_application ON proposals;
DROP TRIGGER proposals_notify ON proposals;
DROP TRIGGER disbursements_notify_approved ON disbursements;
DROP TRIGGER disbursements_notify_decided ON disbursements;
DROP TRIGGER refund_requests_notify ON refund_requests;
DROP TRIGGER payments_notify_refunded ON payments;
DROP TRIGGER payments_notify_received ON payments;
DROP TRIGGER work_history_notify ON work_history;
DROP FUNCTION delegations_notify(), proposals_notify_application(), proposals_notify(), disbursements_notify(), refund_requests_notify(),
    payments_notify_refunded(), payments_notify_received(),
    work_history_notify(), proposal_audience(bigint, bigint), notify(bigint[], text, bigint, text, timestamptz);
DROP TABLE notifications;
