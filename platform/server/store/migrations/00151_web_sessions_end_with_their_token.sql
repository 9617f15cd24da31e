-- +goose Up
-- A sign-in code remembers the member token that issued it, and a session the token of the
-- code that opened it: revoking a token (one that leaked, say) voids the codes it issued
-- and ends the sessions they opened, in the same statement. A code issued by the hub's
-- admin token, or before this migration, has none.
ALTER TABLE sign_in_codes ADD COLUMN token_id bigint REFERENCES member_tokens (id) ON DELETE CASCADE;
ALTER TABLE web_sessions ADD COLUMN token_id bigint REFERENCES member_tokens (id) ON DELETE CASCADE;
CREATE INDEX sign_in_codes_token ON sign_in_codes (token_id);
CREATE INDEX web_sessions_token ON web_sessions (token_id);

-- +goose Down
ALTER TABLE web_sessions DROP COLUMN token_id;
ALTER TABLE sign_in_codes DROP COLUMN token_id;
