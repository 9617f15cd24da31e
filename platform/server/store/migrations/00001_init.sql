-- +goose Up
CREATE TABLE members (
    id                bigserial PRIMARY KEY,
    name              text,
    email             text,
    phone             text,
    stakeholder_class text NOT NULL DEFAULT '',
    roles             text[] NOT NULL,
    qualifications    text[] NOT NULL DEFAULT '{}',
    active            boolean NOT NULL DEFAULT true,
    available         boolean NOT NULL DEFAULT false,
    last_assigned_at  timestamptz,
    rating_sum        bigint NOT NULL DEFAULT 0,
    rating_count      bigint NOT NULL DEFAULT 0,
    erased_at         timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (roles <@ ARRAY['worker','customer','staff']::text[] AND cardinality(roles) > 0)
);
CREATE UNIQUE INDEX members_email ON members (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX members_matchable ON members (last_assigned_at NULLS FIRST, id)
    WHERE active AND available AND 'worker' = ANY (roles);

CREATE TABLE member_tokens (
    token_hash bytea PRIMARY KEY,
    member_id  bigint NOT NULL REFERENCES members ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX member_tokens_member ON member_tokens (member_id);

CREATE TABLE blocks (
    customer_id bigint NOT NULL REFERENCES members,
    worker_id   bigint NOT NULL REFERENCES members,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, worker_id)
);

CREATE TABLE work_items (
    id           bigserial PRIMARY KEY,
    vertical     text NOT NULL,
    kind         text NOT NULL,
    customer_id  bigint NOT NULL REFERENCES members,
    worker_id    bigint REFERENCES members,
    state        text NOT NULL,
    details      jsonb NOT NULL DEFAULT '{}',
    price_cents  bigint NOT NULL CHECK (price_cents > 0),
    surge_cents  bigint NOT NULL DEFAULT 0 CHECK (surge_cents >= 0 AND surge_cents <= price_cents),
    rating       int CHECK (rating BETWEEN 1 AND 5),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (state IN ('requested','offered','accepted','in_progress','completed','cancelled'))
);
CREATE INDEX work_items_worker_busy ON work_items (worker_id) WHERE state IN ('offered','accepted','in_progress');
CREATE INDEX work_items_customer ON work_items (customer_id);

CREATE TABLE work_history (
    id         bigserial PRIMARY KEY,
    work_id    bigint NOT NULL REFERENCES work_items,
    from_state text,
    to_state   text NOT NULL,
    actor_id   bigint REFERENCES members,
    worker_id  bigint REFERENCES members,
    note       text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_history_work ON work_history (work_id, id);

CREATE TABLE offers (
    id         bigserial PRIMARY KEY,
    work_id    bigint NOT NULL REFERENCES work_items,
    worker_id  bigint NOT NULL REFERENCES members,
    status     text NOT NULL DEFAULT 'offered' CHECK (status IN ('offered','accepted','declined','withdrawn')),
    reason     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offers_work ON offers (work_id);

CREATE TABLE ledger_transactions (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('payment','refund')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_entries (
    id           bigserial PRIMARY KEY,
    tx_id        bigint NOT NULL REFERENCES ledger_transactions,
    account      text NOT NULL,
    member_id    bigint REFERENCES members,
    amount_cents bigint NOT NULL
);
CREATE INDEX ledger_entries_tx ON ledger_entries (tx_id);
CREATE INDEX ledger_entries_account ON ledger_entries (account);
CREATE INDEX ledger_entries_member ON ledger_entries (member_id) WHERE member_id IS NOT NULL;

-- Every transaction must balance: checked at commit, once per inserted entry.
-- +goose StatementBegin
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE total numeric;
BEGIN
    SELECT coalesce(sum(amount_cents), 0) INTO total FROM ledger_entries WHERE tx_id = NEW.tx_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: entries sum to %', NEW.tx_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER ledger_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- The ledger is append-only: corrections are reversing transactions.
-- +goose StatementBegin
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only' USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TABLE payments (
    id              bigserial PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    request_hash    bytea NOT NULL,
    work_id         bigint REFERENCES work_items,
    payer_id        bigint REFERENCES members,
    worker_id       bigint NOT NULL REFERENCES members,
    gross_cents     bigint NOT NULL CHECK (gross_cents > 0),
    surge_cents     bigint NOT NULL CHECK (surge_cents >= 0),
    split           jsonb NOT NULL,
    tx_id           bigint NOT NULL REFERENCES ledger_transactions,
    refund_tx_id    bigint REFERENCES ledger_transactions,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_worker ON payments (worker_id);
CREATE INDEX payments_payer ON payments (payer_id);

CREATE TABLE proposals (
    id          bigserial PRIMARY KEY,
    title       text NOT NULL,
    body        text NOT NULL DEFAULT '',
    field       text NOT NULL DEFAULT '',
    created_by  bigint REFERENCES members,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open','closed')),
    result      jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz
);

CREATE TABLE ballots (
    proposal_id bigint NOT NULL REFERENCES proposals,
    member_id   bigint NOT NULL REFERENCES members,
    choice      text NOT NULL,
    cast_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (proposal_id, member_id)
);

CREATE TABLE delegations (
    member_id   bigint PRIMARY KEY REFERENCES members,
    delegate_id bigint NOT NULL REFERENCES members,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (member_id <> delegate_id)
);

-- +goose Down
DROP TABLE delegations, ballots, proposals, payments, ledger_entries, ledger_transactions,
    offers, work_history, work_items, blocks, member_tokens, members;
DROP FUNCTION ledger_check_balanced, ledger_append_only;
