-- +goose Up
-- A work's history, which its customer reads (and the workers offered urgent work), said
-- when the offered worker was last assigned, their rating and member id (the values of
-- the fair-matching rule), the ids of every worker urgent work was offered to, and, as
-- the actor of a decline, which worker declined. These are the workers' and staff's: the
-- offers keep them (their reason, their worker, declined). The history says which rule
-- chose the worker and that a declined offer moved on, by no one, as an expiry's and a
-- withdrawal's; the notes and declines written before say so now too.
UPDATE work_history
SET note = regexp_replace(note,
    'worker first \((never assigned before|last assigned [^)]*)\), then highest rating \([^)]*\), then lowest member id \([0-9]+\)',
    'worker first, then highest rating, then lowest member id', 'g')
WHERE note ~ 'worker first \((never assigned before|last assigned [^)]*)\), then highest rating \([^)]*\), then lowest member id \([0-9]+\)';
UPDATE work_history
SET note = regexp_replace(note, 'asked for by the customer \(worker [0-9]+\)', 'asked for by the customer', 'g')
WHERE note ~ 'asked for by the customer \(worker [0-9]+\)';
UPDATE work_history
SET note = regexp_replace(note, 'urgent: offered to workers [0-9, ]+ at once',
    'urgent: offered to ' || array_length(regexp_split_to_array((regexp_match(note, 'urgent: offered to workers ([0-9, ]+) at once'))[1], ', '), 1) || ' workers at once')
WHERE note ~ 'urgent: offered to workers [0-9, ]+ at once';
UPDATE work_history
SET note = regexp_replace(note, '^declined', 'the offer moved on'), actor_id = NULL
WHERE from_state = 'offered' AND to_state IN ('offered', 'requested') AND note ~ '^declined(;|$)';

-- +goose Down
-- (The histories keep their new words.)
SELECT 1;
