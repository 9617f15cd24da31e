-- +goose Up
-- A stay's place (details.unit) is one place however its name is written: "Apt 3",
-- "apt 3", "APT 3", "Apt  3" and "Apt<no-break space>3" are the same unit. stay_place is
-- the one key the stays of a place are locked on and compared by (the service passes the
-- unit as the guest wrote it; the stored unit keeps its words): Unicode compatibility
-- forms (NFKD: full-width letters, no-break and other spaces as a space, a letter and its
-- accent apart), lower case (so that an accented capital folds whatever the database's
-- locale: É is E and its accent, E lower-cased, then composed again), every run of Unicode
-- white space one space and none around, zero-width characters dropped, then NFKC. It is
-- computed by the database from the stored unit, for every row, those written before
-- too: nothing to rewrite, and no writer can store a key of its own.
CREATE FUNCTION stay_place(unit text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN normalize(btrim(regexp_replace(regexp_replace(lower(normalize(unit, NFKD)),
    '[\u200b-\u200d\u2060\ufeff]+', '', 'g'),
    '[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+', ' ', 'g')), NFKC);

-- The stays of a place, found by its key.
DROP INDEX work_items_stays;
CREATE INDEX work_items_stay_places ON work_items (stay_place(details->>'unit')) WHERE kind = 'stay' AND state <> 'cancelled';

-- +goose Down
DROP INDEX work_items_stay_places;
CREATE INDEX work_items_stays ON work_items ((details->>'unit')) WHERE kind = 'stay' AND state <> 'cancelled';
DROP FUNCTION stay_place(text);
