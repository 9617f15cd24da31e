-- +goose Up
-- A freelance project's milestones: each is paid when the client accepts it.
CREATE TABLE milestones (
    work_id      bigint NOT NULL REFERENCES work_items,
    n            int NOT NULL CHECK (n >= 1),
    title        text NOT NULL,
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'submitted', 'accepted')),
    -- The payment of an accepted milestone (payments are append-only; no foreign key,
    -- so that the ledger tables' TRUNCATE guard answers first).
    payment_id   bigint,
    PRIMARY KEY (work_id, n)
);

-- +goose Down
DROP TABLE milestones;
