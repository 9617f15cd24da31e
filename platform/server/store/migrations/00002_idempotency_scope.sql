-- +goose Up
-- An idempotency key is the client's own: two members may use the same key for different
-- payments. The key is unique within its scope: the paying member, staff, or a work item.
ALTER TABLE payments ADD COLUMN idempotency_scope text NOT NULL DEFAULT '';
ALTER TABLE payments DROP CONSTRAINT payments_idempotency_key_key;
ALTER TABLE payments ADD CONSTRAINT payments_idempotency_scope_key UNIQUE (idempotency_scope, idempotency_key);

-- +goose Down
ALTER TABLE payments DROP CONSTRAINT payments_idempotency_scope_key;
ALTER TABLE payments ADD CONSTRAINT payments_idempotency_key_key UNIQUE (idempotency_key);
ALTER TABLE payments DROP COLUMN idempotency_scope;
