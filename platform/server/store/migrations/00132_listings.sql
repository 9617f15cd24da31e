-- +goose Up
-- A marketplace listing, owned by its maker (a worker): orders of it go to the maker and
-- are counted against its stock.
CREATE TABLE listings (
    id          bigserial PRIMARY KEY,
    owner_id    bigint NOT NULL REFERENCES members,
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    price_cents bigint NOT NULL CHECK (price_cents > 0),
    stock       bigint NOT NULL CHECK (stock >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX listings_owner ON listings (owner_id);

-- Stays of one place are checked for overlap under a lock of the place; this finds them.
CREATE INDEX work_items_stays ON work_items ((details->>'unit')) WHERE kind = 'stay' AND state <> 'cancelled';

-- +goose Down
DROP INDEX work_items_stays;
DROP TABLE listings;
