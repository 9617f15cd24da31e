-- +goose Up
-- Delivery: merchants (restaurants, shops) are a role of their own that requests orders,
-- and a delivery may carry several stops (a batched order, one courier).
ALTER TABLE members DROP CONSTRAINT members_roles_check,
    ADD CONSTRAINT members_roles_check CHECK (roles <@ ARRAY['worker','customer','staff','merchant']::text[] AND cardinality(roles) > 0);
ALTER TABLE work_items ADD COLUMN stops jsonb;

-- +goose Down
ALTER TABLE work_items DROP COLUMN stops;
ALTER TABLE members DROP CONSTRAINT members_roles_check,
    ADD CONSTRAINT members_roles_check CHECK (roles <@ ARRAY['worker','customer','staff']::text[] AND cardinality(roles) > 0);
