-- +goose Up
-- The roll of a vote is fixed when it opens, erasure included: an erased member stays on
-- the roll of the votes still open, and a ballot they cast there still counts (it was taken
-- off the roll, so that erasing a member who had voted changed the count: a 5-5 tie became
-- 5-4). A member who had not voted counts as not voting. Their ballot stays, as before,
-- pointing to their anonymised id only.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION member_audit_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE who text := coalesce(nullif(current_setting('cooperator.actor', true), ''), 'database:' || session_user);
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO member_audit (member_id, event, new_value, actor) VALUES (NEW.id, 'admitted',
            jsonb_build_object('roles', NEW.roles, 'active', NEW.active), who);
        RETURN NULL;
    END IF;
    IF NEW.erased_at IS NOT NULL AND OLD.erased_at IS NULL THEN
        INSERT INTO member_audit (member_id, event, actor) VALUES (NEW.id, 'erased', who);
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION member_audit_record() RETURNS trigger LANGUAGE plpgsql AS $$
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
