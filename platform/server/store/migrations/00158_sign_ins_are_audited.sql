-- +goose Up
-- Every sign-in to the members' app is in the member audit: the member reads when their
-- account was signed in to and with what (a code the co-op's staff issued, a code of one of
-- their tokens, a token such as the key a claim gave them), so a sign-in they did not make
-- shows. A trigger records it, as it records every credential issued or revoked (00157);
-- only ids, never a code, a token or a hash.
ALTER TABLE web_sessions ADD COLUMN opened_with text CHECK (opened_with IN ('code', 'token'));

ALTER TABLE member_audit DROP CONSTRAINT member_audit_event_check;
ALTER TABLE member_audit ADD CONSTRAINT member_audit_event_check CHECK (event IN ('admitted', 'roles',
    'stakeholderClass', 'activated', 'deactivated', 'erased',
    'tokenIssued', 'tokenRevoked', 'signInCodeIssued', 'claimed', 'claimReleased', 'signedIn'));

-- The actor is the member (whoever held the code or the token); the credential is what
-- opened the session: code (a code the admin token issued), code:token:<id> (a code that
-- token issued), or token:<id> (the token itself).
-- +goose StatementBegin
CREATE FUNCTION web_sessions_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_audit (member_id, event, new_value, actor, credential) VALUES (NEW.member_id, 'signedIn',
        jsonb_strip_nulls(jsonb_build_object('tokenId', NEW.token_id, 'with', NEW.opened_with, 'expiresAt', NEW.expires_at)),
        'member:' || NEW.member_id,
        CASE WHEN NEW.opened_with = 'token' THEN 'token:' || NEW.token_id ELSE 'code' || coalesce(':token:' || NEW.token_id, '') END);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER web_sessions_audit AFTER INSERT ON web_sessions
    FOR EACH ROW EXECUTE FUNCTION web_sessions_audit();

-- +goose Down
DROP TRIGGER web_sessions_audit ON web_sessions;
DROP FUNCTION web_sessions_audit();
-- The audit is append-only: its sign-in entries stay, under the older check, unchecked.
ALTER TABLE member_audit DROP CONSTRAINT member_audit_event_check;
ALTER TABLE member_audit ADD CONSTRAINT member_audit_event_check CHECK (event IN ('admitted', 'roles',
    'stakeholderClass', 'activated', 'deactivated', 'erased',
    'tokenIssued', 'tokenRevoked', 'signInCodeIssued', 'claimed', 'claimReleased')) NOT VALID;
ALTER TABLE web_sessions DROP COLUMN opened_with;
