-- +goose Up
-- Earnings look a payment up by its ledger transaction (or its refund's), and a work item
-- by the payment it completed with: without these, each lookup reads every payment.
CREATE INDEX payments_tx_id ON payments (tx_id);
CREATE INDEX payments_refund_tx_id ON payments (refund_tx_id) WHERE refund_tx_id IS NOT NULL;
CREATE INDEX payments_work_id ON payments (work_id) WHERE work_id IS NOT NULL;

-- +goose Down
DROP INDEX payments_work_id;
DROP INDEX payments_refund_tx_id;
DROP INDEX payments_tx_id;
