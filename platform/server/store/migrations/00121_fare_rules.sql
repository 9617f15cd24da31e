-- +goose Up
-- The fare rules the members voted: a passed proposal on "fares" adds one, and the
-- newest is in force (before any, the policy file's). Rows are never changed.
CREATE TABLE fare_rules (
    id          bigserial PRIMARY KEY,
    rule        jsonb NOT NULL,
    proposal_id bigint NOT NULL UNIQUE REFERENCES proposals,
    applied_at  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE fare_rules;
