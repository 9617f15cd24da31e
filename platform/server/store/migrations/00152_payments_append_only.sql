-- +goose Up
-- A payment is the record of money that moved, as its ledger transaction is: the database
-- itself, for its owner too, refuses deleting or truncating one and changing what it
-- says (who paid whom how much, for which work, with which split and transaction). Only
-- what a refund and an erasure change may change: the refund's transaction, set once
-- from none, and the idempotency key and its scope (an erasure replaces a key that may
-- name the member). The serving role may not even try (its column grants, store.Migrate).
--
-- A refund says who made it (refunded_by): staff (the admin token) or the worker the
-- payment paid (migration 156 adds a vote of the members); set with the refund's
-- transaction, once. Refunds before were staff's. Only
-- a refund says who made it; a refund without it is allowed, so that a replica of the
-- version before, still serving during a rolling update, refunds as it did.
ALTER TABLE payments ADD COLUMN refunded_by text CHECK (refunded_by IN ('staff', 'worker')),
    ADD CONSTRAINT payments_refunded_by_needs_a_refund CHECK (refunded_by IS NULL OR refund_tx_id IS NOT NULL);
UPDATE payments SET refunded_by = 'staff' WHERE refund_tx_id IS NOT NULL;
-- +goose StatementBegin
CREATE FUNCTION payments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'payments are append-only: DELETE is refused'
            USING ERRCODE = 'restrict_violation', HINT = 'a payment is undone by its refund';
    END IF;
    IF (NEW.id, NEW.request_hash, NEW.work_id, NEW.payer_id, NEW.worker_id, NEW.gross_cents,
            NEW.surge_cents, NEW.split, NEW.tx_id, NEW.created_at)
        IS DISTINCT FROM (OLD.id, OLD.request_hash, OLD.work_id, OLD.payer_id, OLD.worker_id,
            OLD.gross_cents, OLD.surge_cents, OLD.split, OLD.tx_id, OLD.created_at) THEN
        RAISE EXCEPTION 'payments are append-only: only a refund and an erasure change a payment'
            USING ERRCODE = 'restrict_violation', HINT = 'a payment is undone by its refund';
    END IF;
    IF OLD.refund_tx_id IS NOT NULL AND (NEW.refund_tx_id, NEW.refunded_by) IS DISTINCT FROM (OLD.refund_tx_id, OLD.refunded_by) THEN
        RAISE EXCEPTION 'payments are append-only: a payment is refunded once'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER payments_append_only BEFORE UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_append_only();
CREATE TRIGGER payments_no_truncate BEFORE TRUNCATE ON payments
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_no_truncate();

-- +goose Down
DROP TRIGGER payments_no_truncate ON payments;
DROP TRIGGER payments_append_only ON payments;
DROP FUNCTION payments_append_only;
ALTER TABLE payments DROP COLUMN refunded_by;
