-- +goose Up
-- A ledger transaction is as much the record as its entries: changing its kind would move a
-- payment between reports, and deleting or truncating it would orphan or take its entries.
-- The same guards as on ledger_entries refuse UPDATE, DELETE and TRUNCATE.
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_no_truncate();

-- +goose Down
DROP TRIGGER ledger_transactions_no_truncate ON ledger_transactions;
DROP TRIGGER ledger_transactions_append_only ON ledger_transactions;
