-- +goose Up
-- The ledger is append-only: row triggers refuse UPDATE and DELETE of an entry, but
-- TRUNCATE fires no row trigger. A statement trigger refuses it, also when it comes
-- through TRUNCATE ledger_transactions CASCADE.
-- +goose StatementBegin
CREATE FUNCTION ledger_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: TRUNCATE % is refused', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'corrections are reversing transactions';
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_no_truncate();

-- +goose Down
DROP TRIGGER ledger_entries_no_truncate ON ledger_entries;
DROP FUNCTION ledger_no_truncate;
