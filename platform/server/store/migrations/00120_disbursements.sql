-- +goose Up
-- A disbursement spends money from a fund: a ledger transaction of its own kind.
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('payment','refund','disbursement'));

-- A disbursement from a fund to a member or to an outside payee, approved by staff
-- (up to the policy's payments.staffDisbursementLimitCents) or by a passed proposal,
-- which it waits for while pending. Paid: its ledger transaction (tx_id) took the amount
-- from the fund's account. Its amount, fund and payee never change.
CREATE TABLE disbursements (
    id           bigserial PRIMARY KEY,
    fund         text NOT NULL,
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    member_id    bigint REFERENCES members,
    payee        text,
    reason       text NOT NULL DEFAULT '',
    requested_by bigint REFERENCES members,
    approval     text NOT NULL CHECK (approval IN ('staff','proposal')),
    proposal_id  bigint REFERENCES proposals,
    status       text NOT NULL CHECK (status IN ('pending','paid','rejected','failed')),
    message      text NOT NULL DEFAULT '',
    tx_id        bigint REFERENCES ledger_transactions,
    created_at   timestamptz NOT NULL DEFAULT now(),
    decided_at   timestamptz,
    CHECK ((member_id IS NULL) <> (payee IS NULL)),
    CHECK ((status = 'paid') = (tx_id IS NOT NULL)),
    CHECK ((approval = 'proposal') = (proposal_id IS NOT NULL))
);
CREATE UNIQUE INDEX disbursements_proposal ON disbursements (proposal_id) WHERE proposal_id IS NOT NULL;
CREATE INDEX disbursements_fund ON disbursements (fund, id);
CREATE INDEX disbursements_tx ON disbursements (tx_id) WHERE tx_id IS NOT NULL;
-- A paid disbursement is part of the ledger's record: like the ledger's tables, it cannot
-- be truncated (the serving role has no TRUNCATE at all).
CREATE TRIGGER disbursements_no_truncate BEFORE TRUNCATE ON disbursements
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_no_truncate();

-- +goose Down
DROP TABLE disbursements;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('payment','refund'));
