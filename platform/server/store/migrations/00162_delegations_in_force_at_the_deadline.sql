-- +goose Up
-- The clock of governance is the database's: governance_now() is now(), unless the
-- database's owner pinned it (governance_clock holds one row then; tests pin it to their
-- fake clock). The serving role reads it and may not write it (store.GrantServing).
CREATE TABLE governance_clock (
    one       boolean PRIMARY KEY DEFAULT true CHECK (one),
    pinned_at timestamptz NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION governance_now() RETURNS timestamptz LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT coalesce((SELECT pinned_at FROM governance_clock), now())
$$;
-- +goose StatementEnd

-- Every delegation with when it was in force, by the database's clock, written by the
-- owner's trigger on delegations whatever path changes them: a proposal under the
-- delegate model counts the delegations in force at its deadline, not those of whenever
-- it was closed (a delegation changed after the deadline, before the closer came, does
-- not count). Rows no open proposal can need any more are dropped as delegations change
-- (an erased member's with them).
CREATE TABLE delegation_history (
    member_id   bigint NOT NULL REFERENCES members,
    delegate_id bigint NOT NULL REFERENCES members,
    valid_from  timestamptz NOT NULL,
    valid_until timestamptz,
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE UNIQUE INDEX delegation_history_in_force ON delegation_history (member_id) WHERE valid_until IS NULL;
INSERT INTO delegation_history (member_id, delegate_id, valid_from) SELECT member_id, delegate_id, created_at FROM delegations;

-- +goose StatementBegin
CREATE FUNCTION delegations_history() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE at timestamptz := governance_now();
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE delegation_history SET valid_until = greatest(at, valid_from)
            WHERE member_id = OLD.member_id AND valid_until IS NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO delegation_history (member_id, delegate_id, valid_from) VALUES (NEW.member_id, NEW.delegate_id, at);
    END IF;
    DELETE FROM delegation_history WHERE valid_until IS NOT NULL
        AND valid_until < coalesce((SELECT min(deadline) FROM proposals WHERE status = 'open'), 'infinity');
    RETURN NULL;
END $$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION delegations_history() FROM PUBLIC;
CREATE TRIGGER delegations_history AFTER INSERT OR UPDATE OR DELETE ON delegations
    FOR EACH ROW EXECUTE FUNCTION delegations_history();

-- +goose Down
DROP TRIGGER delegations_history ON delegations;
DROP FUNCTION delegations_history();
DROP TABLE delegation_history;
DROP FUNCTION governance_now();
DROP TABLE governance_clock;
