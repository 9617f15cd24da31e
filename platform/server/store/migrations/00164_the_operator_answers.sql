-- +goose Up
-- What became of a passed change (application, application_message, application_at) is
-- the operator's to write, through the database's owner (its connection, and the owner's
-- close_proposal, which marks a passed change pending). The serving role keeps one write
-- of its own: that the platform applied a pending fare rule itself (fares are no part of
-- the Cooperative's spec). A compromised platform could otherwise mark a passed change
-- applied, or refused, and the operator, which reads the pending ones, would never see it.

-- +goose StatementBegin
CREATE FUNCTION proposals_application_kept() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF (NEW.application, NEW.application_message, NEW.application_at) IS NOT DISTINCT FROM
        (OLD.application, OLD.application_message, OLD.application_at) THEN
        RETURN NEW;
    END IF;
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'proposals'::regclass), 'MEMBER') THEN
        RETURN NEW;
    END IF;
    IF OLD.field = 'fares' AND OLD.application = 'pending' AND NEW.application = 'applied' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'what became of proposal %''s change is the operator''s to write', OLD.id USING ERRCODE = 'insufficient_privilege';
END $$;
-- +goose StatementEnd
CREATE TRIGGER proposals_application_kept BEFORE UPDATE OF application, application_message, application_at ON proposals
    FOR EACH ROW EXECUTE FUNCTION proposals_application_kept();

-- +goose Down
DROP TRIGGER proposals_application_kept ON proposals;
DROP FUNCTION proposals_application_kept();
