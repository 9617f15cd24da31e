-- +goose Up
-- A disbursement is asked for with an idempotency key, as a payment is: a retry of the
-- same request (its answer lost) answers the disbursement it made, never pays or opens a
-- vote twice; the same key for another request is refused. A key is unique in its scope
-- (staff, or member:<id>, who asked); the hash is of the request it was used for. An
-- erasure replaces the keys of the disbursements the member asked for or receives (a
-- key is free text, and may name them), in a scope of their own ('erased:' and the old
-- one) where the id keeps them unique, and empties their hash (of words it wipes).
-- Disbursements from before have none.
ALTER TABLE disbursements ADD COLUMN idempotency_scope text, ADD COLUMN idempotency_key text, ADD COLUMN request_hash bytea,
    ADD CONSTRAINT disbursements_key_whole CHECK ((idempotency_key IS NULL) = (idempotency_scope IS NULL)
        AND (idempotency_key IS NULL) = (request_hash IS NULL));
CREATE UNIQUE INDEX disbursements_key ON disbursements (idempotency_scope, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The proposal that puts a member's disbursement to the vote, which every member reads,
-- names neither the member it would pay nor who asked (the disbursement itself is read only
-- by them and staff): those opened before say "a member" now, and have no author.
UPDATE proposals p SET created_by = NULL,
    body = regexp_replace(p.body, '^(Pay [0-9]+ cents from the .* fund to )member [0-9]+(\. Reason: )', '\1a member\2')
FROM disbursements d WHERE d.proposal_id = p.id;

-- +goose Down
-- (The proposals keep their new words and no author.)
DROP INDEX disbursements_key;
ALTER TABLE disbursements DROP COLUMN idempotency_scope, DROP COLUMN idempotency_key, DROP COLUMN request_hash;
