-- +goose Up
-- A refund the members decide. The payment's payer, or staff for a refund above their
-- limit (payments.staffLimitCents), ask for it with a reason; the request opens a
-- proposal (a motion) under the co-op's rules; passed, the refund is made in the
-- transaction that closes it (refunded_by 'vote'); not passed, rejected; passed when the
-- payment was refunded meanwhile or a fund no longer holds its share, failed with the
-- reason. One request at a time per payment. Who asked (NULL: staff), the payment and the
-- proposal never change.
CREATE TABLE refund_requests (
    id           bigserial PRIMARY KEY,
    payment_id   bigint NOT NULL REFERENCES payments,
    requested_by bigint REFERENCES members,
    reason       text NOT NULL,
    proposal_id  bigint NOT NULL REFERENCES proposals,
    status       text NOT NULL CHECK (status IN ('pending', 'refunded', 'rejected', 'failed')),
    message      text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    decided_at   timestamptz,
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX refund_requests_proposal ON refund_requests (proposal_id);
CREATE UNIQUE INDEX refund_requests_pending ON refund_requests (payment_id) WHERE status = 'pending';
-- A refund the members voted says so.
ALTER TABLE payments DROP CONSTRAINT payments_refunded_by_check,
    ADD CONSTRAINT payments_refunded_by_check CHECK (refunded_by IN ('staff', 'worker', 'vote'));

-- +goose Down
DROP TABLE refund_requests;
ALTER TABLE payments DROP CONSTRAINT payments_refunded_by_check,
    ADD CONSTRAINT payments_refunded_by_check CHECK (refunded_by IN ('staff', 'worker')) NOT VALID;
