-- +goose Up
-- Why an offer was withdrawn (its worker took time off, no longer met what the work
-- needs, could no longer take work) is the worker's business: it is said on the offer,
-- which its worker (their data export, a refused accept) and staff read. The work's
-- history, which its customer and the workers offered urgent work read beside the row
-- that names the worker, says only that the offer moved on; the notes written before
-- say so now too. The offers withdrawn before say no reason.
ALTER TABLE offers ADD COLUMN withdrawn_because text NOT NULL DEFAULT '';
UPDATE work_history
SET note = regexp_replace(note, '^offer withdrawn: the worker (took time off|no longer meets what the work needs|can no longer take work)', 'the offer moved on')
WHERE note ~ '^offer withdrawn: the worker (took time off|no longer meets what the work needs|can no longer take work)';

-- +goose Down
-- (The histories keep their new words.)
ALTER TABLE offers DROP COLUMN withdrawn_because;
