-- +goose Up
-- "Sign in on another device": a session of the members' app issues a sign-in code for
-- its member, to type on another device. The code says so (from_app), and so do the
-- session it opens (opened_with 'app-code') and the audit of that sign-in (credential
-- app-code, or app-code:token:<id> when the issuing session ended with a token): the
-- member reads a sign-in with a code of their own, not one staff issued. Codes and
-- sessions from before are none.
ALTER TABLE sign_in_codes ADD COLUMN from_app boolean NOT NULL DEFAULT false;

ALTER TABLE web_sessions DROP CONSTRAINT web_sessions_opened_with_check;
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_opened_with_check CHECK (opened_with IN ('code', 'app-code', 'token'));

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION web_sessions_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_audit (member_id, event, new_value, actor, credential) VALUES (NEW.member_id, 'signedIn',
        jsonb_strip_nulls(jsonb_build_object('tokenId', NEW.token_id, 'with', NEW.opened_with, 'expiresAt', NEW.expires_at)),
        'member:' || NEW.member_id,
        CASE WHEN NEW.opened_with = 'token' THEN 'token:' || NEW.token_id
             ELSE coalesce(NEW.opened_with, 'code') || coalesce(':token:' || NEW.token_id, '') END);
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION web_sessions_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_audit (member_id, event, new_value, actor, credential) VALUES (NEW.member_id, 'signedIn',
        jsonb_strip_nulls(jsonb_build_object('tokenId', NEW.token_id, 'with', NEW.opened_with, 'expiresAt', NEW.expires_at)),
        'member:' || NEW.member_id,
        CASE WHEN NEW.opened_with = 'token' THEN 'token:' || NEW.token_id ELSE 'code' || coalesce(':token:' || NEW.token_id, '') END);
    RETURN NULL;
END $$;
-- +goose StatementEnd
UPDATE web_sessions SET opened_with = 'code' WHERE opened_with = 'app-code';
ALTER TABLE web_sessions DROP CONSTRAINT web_sessions_opened_with_check;
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_opened_with_check CHECK (opened_with IN ('code', 'token'));
ALTER TABLE sign_in_codes DROP COLUMN from_app;
