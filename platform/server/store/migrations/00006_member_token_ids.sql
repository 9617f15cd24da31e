-- +goose Up
-- A member lists and revokes their own tokens by an id: never by the token or its hash.
ALTER TABLE member_tokens ADD COLUMN id bigserial NOT NULL UNIQUE;

-- +goose Down
ALTER TABLE member_tokens DROP COLUMN id;
