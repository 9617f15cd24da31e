-- +goose Up
-- An offer belongs to a round of matching of its work. A worker who declined it, or let
-- their offer expire, is not offered it again in that round; once nobody is left the work
-- goes back to requested, the round ends (past_round), and the next match starts a new
-- one, in which only its own offers exclude a worker. Without it, a worker who once let an
-- offer pass was never offered that work again, and in a co-op of one driver the ride
-- waited for ever. The work waiting in requested now starts its next match afresh.
ALTER TABLE offers ADD COLUMN past_round boolean NOT NULL DEFAULT false;
UPDATE offers SET past_round = true WHERE work_id IN (SELECT id FROM work_items WHERE state = 'requested');

-- +goose Down
ALTER TABLE offers DROP COLUMN past_round;
