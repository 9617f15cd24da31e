-- +goose Up
-- What staff verified about a worker: skills (the services and care types they may be
-- offered) and languages; a carer's background check with its expiry; and a care
-- client's team of regular carers, offered the client's work first.
CREATE TABLE worker_skills (
    member_id   bigint NOT NULL REFERENCES members,
    kind        text NOT NULL CHECK (kind IN ('skill', 'language')),
    value       text NOT NULL,
    verified_at timestamptz NOT NULL,
    PRIMARY KEY (member_id, kind, value)
);
CREATE INDEX worker_skills_value ON worker_skills (kind, value);

CREATE TABLE background_checks (
    member_id   bigint PRIMARY KEY REFERENCES members,
    status      text NOT NULL CHECK (status IN ('clear', 'pending', 'failed')),
    checked_on  date NOT NULL,
    expires_at  timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);

CREATE TABLE care_teams (
    client_id bigint NOT NULL REFERENCES members,
    worker_id bigint NOT NULL REFERENCES members,
    added_at  timestamptz NOT NULL,
    PRIMARY KEY (client_id, worker_id),
    CHECK (client_id <> worker_id)
);

-- +goose Down
DROP TABLE care_teams, background_checks, worker_skills;
