-- +goose Up
-- When a session of the members' app was last used, to the few minutes (sessions.SeenEvery):
-- the member's list of their open sessions says it, so one they do not use any more, or
-- one someone else uses, shows. Nothing else about the use (no address, no page).
ALTER TABLE web_sessions ADD COLUMN last_seen_at timestamptz;

-- +goose Down
ALTER TABLE web_sessions DROP COLUMN last_seen_at;
