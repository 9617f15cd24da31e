-- +goose Up
-- A member claims their account: from then on only they issue its credentials (tokens and
-- sign-in codes); the claim gives them a new token and ends every other one, every code
-- and every session but the one claiming. Staff may release a claim, for a member who lost
-- every credential: the release ends all of the member's tokens, codes and sessions.
ALTER TABLE members ADD COLUMN claimed_at timestamptz;

-- The member audit records, with who did it, every token issued or revoked, every sign-in
-- code issued, and every claim and release: the member reads their own (GET
-- /v1/members/{id}/audit), so what staff did with their credentials shows. A trigger
-- records each, so that no path that issues or revokes one (a deactivation, an erasure,
-- a claim) can leave it out. Only ids and who: no token, code or hash.
ALTER TABLE member_audit DROP CONSTRAINT member_audit_event_check;
ALTER TABLE member_audit ADD CONSTRAINT member_audit_event_check CHECK (event IN ('admitted', 'roles',
    'stakeholderClass', 'activated', 'deactivated', 'erased',
    'tokenIssued', 'tokenRevoked', 'signInCodeIssued', 'claimed', 'claimReleased'));

-- Each credential entry also says which credential the actor used (credential): token:<id>
-- for a member token, app-session (app-session:token:<id> when the session ends with a
-- token) for a session of the members' app, none for staff's admin token; the platform
-- names it per transaction in the setting cooperator.credential. So a member reads that
-- a token "they" issued was made with the registration's token, which staff issued.
ALTER TABLE member_audit ADD COLUMN credential text;

-- +goose StatementBegin
CREATE FUNCTION member_audit_actor() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('cooperator.actor', true), ''), 'database:' || session_user)
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION member_audit_credential() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('cooperator.credential', true), '')
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION member_credentials_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'member_tokens' AND TG_OP = 'INSERT' THEN
        INSERT INTO member_audit (member_id, event, new_value, actor, credential) VALUES (NEW.member_id, 'tokenIssued',
            jsonb_strip_nulls(jsonb_build_object('tokenId', NEW.id, 'issuedBy', NEW.issued_by)), member_audit_actor(), member_audit_credential());
    ELSIF TG_TABLE_NAME = 'member_tokens' THEN
        INSERT INTO member_audit (member_id, event, old_value, actor, credential) VALUES (OLD.member_id, 'tokenRevoked',
            jsonb_strip_nulls(jsonb_build_object('tokenId', OLD.id, 'issuedBy', OLD.issued_by)), member_audit_actor(), member_audit_credential());
    ELSE
        -- A code issued by the admin token names no token.
        INSERT INTO member_audit (member_id, event, new_value, actor, credential) VALUES (NEW.member_id, 'signInCodeIssued',
            jsonb_strip_nulls(jsonb_build_object('tokenId', NEW.token_id, 'expiresAt', NEW.expires_at)), member_audit_actor(), member_audit_credential());
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER member_tokens_audit AFTER INSERT OR DELETE ON member_tokens
    FOR EACH ROW EXECUTE FUNCTION member_credentials_audit();
CREATE TRIGGER sign_in_codes_audit AFTER INSERT ON sign_in_codes
    FOR EACH ROW EXECUTE FUNCTION member_credentials_audit();

-- +goose StatementBegin
CREATE FUNCTION member_claim_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_audit (member_id, event, actor, credential)
        VALUES (NEW.id, CASE WHEN NEW.claimed_at IS NULL THEN 'claimReleased' ELSE 'claimed' END, member_audit_actor(), member_audit_credential());
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER members_claim_audit AFTER UPDATE OF claimed_at ON members
    FOR EACH ROW WHEN ((OLD.claimed_at IS NULL) <> (NEW.claimed_at IS NULL)) EXECUTE FUNCTION member_claim_audit();

-- +goose Down
DROP TRIGGER members_claim_audit ON members;
DROP FUNCTION member_claim_audit();
DROP TRIGGER sign_in_codes_audit ON sign_in_codes;
DROP TRIGGER member_tokens_audit ON member_tokens;
DROP FUNCTION member_credentials_audit();
DROP FUNCTION member_audit_credential();
DROP FUNCTION member_audit_actor();
-- The audit is append-only: its credential entries stay, under the older check, unchecked.
ALTER TABLE member_audit DROP CONSTRAINT member_audit_event_check;
ALTER TABLE member_audit ADD CONSTRAINT member_audit_event_check CHECK (event IN ('admitted', 'roles',
    'stakeholderClass', 'activated', 'deactivated', 'erased')) NOT VALID;
ALTER TABLE member_audit DROP COLUMN credential;
ALTER TABLE members DROP COLUMN claimed_at;
