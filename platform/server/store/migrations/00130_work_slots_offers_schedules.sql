-- +goose Up
-- Work that finds its worker: a work item's time slot (scheduled work reserves only its
-- slot), urgent requests offered to several workers at once, offers that expire, and a
-- worker's availability as a weekly schedule plus exceptions.
ALTER TABLE work_items
    ADD COLUMN urgent boolean NOT NULL DEFAULT false,
    ADD COLUMN starts_at timestamptz,
    ADD COLUMN ends_at timestamptz,
    ADD CONSTRAINT work_items_slot CHECK ((starts_at IS NULL) = (ends_at IS NULL) AND (starts_at IS NULL OR ends_at > starts_at));
CREATE INDEX work_items_worker_slot ON work_items (worker_id, starts_at)
    WHERE state IN ('accepted', 'in_progress') AND starts_at IS NOT NULL;

ALTER TABLE offers
    ADD COLUMN expires_at timestamptz,
    DROP CONSTRAINT offers_status_check,
    ADD CONSTRAINT offers_status_check CHECK (status IN ('offered', 'accepted', 'declined', 'withdrawn', 'expired'));
CREATE INDEX offers_open_worker ON offers (worker_id, id) WHERE status = 'offered';
CREATE INDEX offers_open_expiry ON offers (expires_at) WHERE status = 'offered';

-- A weekly window: ISO weekday (1 Monday .. 7 Sunday), minutes of the day in UTC,
-- from inclusive, to exclusive (1440: midnight at the end of the day).
CREATE TABLE availability_windows (
    member_id   bigint NOT NULL REFERENCES members,
    weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    from_minute int NOT NULL,
    to_minute   int NOT NULL,
    CHECK (0 <= from_minute AND from_minute < to_minute AND to_minute <= 1440),
    PRIMARY KEY (member_id, weekday, from_minute)
);

-- An exception to the weekly schedule: available (an extra shift) or not (a holiday)
-- from starts_at to ends_at; an exception wins over the weekly windows.
CREATE TABLE availability_exceptions (
    id        bigserial PRIMARY KEY,
    member_id bigint NOT NULL REFERENCES members,
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL,
    available boolean NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX availability_exceptions_member ON availability_exceptions (member_id, starts_at);

-- Workers available before schedules existed are available every day, all day.
INSERT INTO availability_windows (member_id, weekday, from_minute, to_minute)
    SELECT id, d, 0, 1440 FROM members, generate_series(1, 7) d WHERE available;

-- +goose Down
DROP TABLE availability_exceptions, availability_windows;
DROP INDEX offers_open_worker, offers_open_expiry;
UPDATE offers SET status = 'withdrawn' WHERE status = 'expired';
ALTER TABLE offers DROP COLUMN expires_at, DROP CONSTRAINT offers_status_check,
    ADD CONSTRAINT offers_status_check CHECK (status IN ('offered', 'accepted', 'declined', 'withdrawn'));
ALTER TABLE work_items DROP COLUMN urgent, DROP COLUMN starts_at, DROP COLUMN ends_at;
