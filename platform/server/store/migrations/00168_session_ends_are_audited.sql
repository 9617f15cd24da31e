-- +goose Up
-- Ending a session of the members' app is in the member audit, as opening one is (00158):
-- signing out, signing out everywhere else, and whatever else ends a session someone
-- asked for (a token revoked with the sessions it opened, a claim, a deactivation). The
-- member reads that a session of theirs ended, which one (what opened it, when), who ended
-- it and with what. A session that runs out, and is deleted by the cleaner, is no entry:
-- only an ending with an actor set (cooperator.actor, SetAuditActor) is. Only ids and
-- times, never the session's secret or its hash.
ALTER TABLE member_audit DROP CONSTRAINT member_audit_event_check;
ALTER TABLE member_audit ADD CONSTRAINT member_audit_event_check CHECK (event IN ('admitted', 'roles',
    'stakeholderClass', 'activated', 'deactivated', 'erased',
    'tokenIssued', 'tokenRevoked', 'signInCodeIssued', 'claimed', 'claimReleased', 'signedIn', 'sessionEnded'));

-- +goose StatementBegin
CREATE FUNCTION web_sessions_end_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF nullif(current_setting('cooperator.actor', true), '') IS NULL THEN
        RETURN NULL; -- ran out, or removed by no one's request
    END IF;
    INSERT INTO member_audit (member_id, event, old_value, actor, credential) VALUES (OLD.member_id, 'sessionEnded',
        jsonb_strip_nulls(jsonb_build_object('tokenId', OLD.token_id, 'with', OLD.opened_with,
            'signedInAt', OLD.created_at, 'expiresAt', OLD.expires_at)),
        member_audit_actor(), member_audit_credential());
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER web_sessions_end_audit AFTER DELETE ON web_sessions
    FOR EACH ROW EXECUTE FUNCTION web_sessions_end_audit();

-- +goose Down
DROP TRIGGER web_sessions_end_audit ON web_sessions;
DROP FUNCTION web_sessions_end_audit();
-- The audit is append-only: its entries of ended sessions stay, under the older check, unchecked.
ALTER TABLE member_audit DROP CONSTRAINT member_audit_event_check;
ALTER TABLE member_audit ADD CONSTRAINT member_audit_event_check CHECK (event IN ('admitted', 'roles',
    'stakeholderClass', 'activated', 'deactivated', 'erased',
    'tokenIssued', 'tokenRevoked', 'signInCodeIssued', 'claimed', 'claimReleased', 'signedIn')) NOT VALID;
