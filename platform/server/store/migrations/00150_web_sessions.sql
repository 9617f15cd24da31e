-- +goose Up
-- The members' app's sign-in: one-time codes (issued by staff or by the member's own
-- token) exchanged for a browser session. Only SHA-256 hashes are stored.
CREATE TABLE sign_in_codes (
    code_hash  bytea PRIMARY KEY,
    member_id  bigint NOT NULL REFERENCES members ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX sign_in_codes_member ON sign_in_codes (member_id);

CREATE TABLE web_sessions (
    id_hash    bytea PRIMARY KEY,
    member_id  bigint NOT NULL REFERENCES members ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_member ON web_sessions (member_id);

-- A member made inactive (deactivated or erased) loses their sessions and codes in the
-- same transaction, as they lose their tokens.
-- +goose StatementBegin
CREATE FUNCTION web_sessions_end_inactive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM web_sessions WHERE member_id = NEW.id;
    DELETE FROM sign_in_codes WHERE member_id = NEW.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER members_end_web_sessions AFTER UPDATE OF active ON members
    FOR EACH ROW WHEN (OLD.active AND NOT NEW.active) EXECUTE FUNCTION web_sessions_end_inactive();

-- +goose Down
DROP TRIGGER members_end_web_sessions ON members;
DROP FUNCTION web_sessions_end_inactive();
DROP TABLE web_sessions;
DROP TABLE sign_in_codes;
