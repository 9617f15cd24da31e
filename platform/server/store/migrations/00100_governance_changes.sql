-- Governance that binds: a proposal carries the exact new value of one governed part of
-- the Cooperative, the rules and the electorate are fixed when it opens, it closes at its
-- deadline, and the operator writes back whether it applied the change.

-- +goose Up
ALTER TABLE proposals
    ADD COLUMN change_value jsonb,
    ADD COLUMN rules        jsonb,
    ADD COLUMN deadline     timestamptz,
    ADD COLUMN application  text NOT NULL DEFAULT ''
        CHECK (application IN ('', 'pending', 'applied', 'refused', 'failed')),
    ADD COLUMN application_message text NOT NULL DEFAULT '',
    ADD COLUMN application_at      timestamptz,
    ADD CONSTRAINT proposals_change_has_field CHECK (change_value IS NULL OR field <> '');
CREATE INDEX proposals_open_deadline ON proposals (deadline) WHERE status = 'open';
CREATE INDEX proposals_pending_application ON proposals (closed_at, id) WHERE application = 'pending';

-- The members who may vote on a proposal, fixed when it opens.
CREATE TABLE proposal_electorate (
    proposal_id       bigint NOT NULL REFERENCES proposals,
    member_id         bigint NOT NULL REFERENCES members,
    stakeholder_class text NOT NULL DEFAULT '',
    PRIMARY KEY (proposal_id, member_id)
);

-- The delegations in force when a proposal closed (delegate model), so that a re-tally
-- of a closed proposal reads what the tally read.
CREATE TABLE proposal_delegations (
    proposal_id bigint NOT NULL REFERENCES proposals,
    member_id   bigint NOT NULL REFERENCES members,
    delegate_id bigint NOT NULL REFERENCES members,
    PRIMARY KEY (proposal_id, member_id)
);

-- Every admission and change of role, stakeholder class or activity of a member, with who
-- made it and when (the roles before and after; not the class, which may be personal). The platform names the actor per transaction in the setting
-- cooperator.actor ('staff' or 'member:<id>'); a change made outside the platform is
-- recorded with the database role that made it.
CREATE TABLE member_audit (
    id        bigserial PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES members,
    event     text NOT NULL CHECK (event IN ('admitted', 'roles', 'stakeholderClass', 'activated', 'deactivated', 'erased')),
    old_value jsonb,
    new_value jsonb,
    actor     text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX member_audit_member ON member_audit (member_id, id);

-- +goose StatementBegin
CREATE FUNCTION member_audit_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE who text := coalesce(nullif(current_setting('cooperator.actor', true), ''), 'database:' || session_user);
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO member_audit (member_id, event, new_value, actor) VALUES (NEW.id, 'admitted',
            jsonb_build_object('roles', NEW.roles, 'active', NEW.active), who);
        RETURN NULL;
    END IF;
    IF NEW.erased_at IS NOT NULL AND OLD.erased_at IS NULL THEN
        INSERT INTO member_audit (member_id, event, actor) VALUES (NEW.id, 'erased', who);
        -- An erased member leaves the roll of the votes still open (their ballot stays, as
        -- the co-op's record, but no longer counts); closed votes keep their roll.
        DELETE FROM proposal_electorate e USING proposals p
            WHERE e.member_id = NEW.id AND p.id = e.proposal_id AND p.status = 'open';
        RETURN NULL;
    END IF;
    IF NEW.roles IS DISTINCT FROM OLD.roles THEN
        INSERT INTO member_audit (member_id, event, old_value, new_value, actor)
            VALUES (NEW.id, 'roles', to_jsonb(OLD.roles), to_jsonb(NEW.roles), who);
    END IF;
    -- The class itself is not recorded: outside multi-stakeholder governance it is free
    -- text staff wrote about the member, which erasure must remove (the audit is
    -- append-only).
    IF NEW.stakeholder_class IS DISTINCT FROM OLD.stakeholder_class THEN
        INSERT INTO member_audit (member_id, event, actor) VALUES (NEW.id, 'stakeholderClass', who);
    END IF;
    IF NEW.active AND NOT OLD.active THEN
        INSERT INTO member_audit (member_id, event, actor) VALUES (NEW.id, 'activated', who);
    ELSIF OLD.active AND NOT NEW.active THEN
        INSERT INTO member_audit (member_id, event, actor) VALUES (NEW.id, 'deactivated', who);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER members_audit AFTER INSERT OR UPDATE ON members
    FOR EACH ROW EXECUTE FUNCTION member_audit_record();

-- The audit is append-only.
-- +goose StatementBegin
CREATE FUNCTION member_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the member audit is append-only' USING ERRCODE = 'restrict_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER member_audit_append_only BEFORE UPDATE OR DELETE ON member_audit
    FOR EACH ROW EXECUTE FUNCTION member_audit_append_only();

-- +goose Down
DROP TRIGGER member_audit_append_only ON member_audit;
DROP TRIGGER members_audit ON members;
DROP FUNCTION member_audit_record, member_audit_append_only;
DROP TABLE member_audit, proposal_delegations, proposal_electorate;
ALTER TABLE proposals DROP CONSTRAINT proposals_change_has_field,
    DROP COLUMN change_value, DROP COLUMN rules, DROP COLUMN deadline, DROP COLUMN application,
    DROP COLUMN application_message, DROP COLUMN application_at;
