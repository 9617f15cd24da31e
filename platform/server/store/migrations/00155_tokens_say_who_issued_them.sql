-- +goose Up
-- A member's token says who issued it: staff (the admin token: the first token, at
-- registration, and any staff made since) or the member (with a token of their own). The
-- member reads it in the list of their tokens and can revoke one they did not make. Tokens
-- from before say nothing (NULL).
ALTER TABLE member_tokens ADD COLUMN issued_by text CHECK (issued_by IN ('staff', 'member'));

-- +goose Down
ALTER TABLE member_tokens DROP COLUMN issued_by;
