-- The ledger summed per contract, period, kind and lot, kept by a trigger so that every
-- way an entry is written (logging time, adjustments, the month close) keeps it true.
-- The month close and the dashboard read these few rows instead of every entry; the
-- entries stay the record (a test checks the sums against them).
-- `lot` is '' for entries without one (a primary key cannot hold NULL as a value).
CREATE TABLE ledger_sums (
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    period_start TEXT NOT NULL,
    kind TEXT NOT NULL,
    lot TEXT NOT NULL,
    -- The entries' positive minutes and negative minutes, summed apart (the month
    -- close needs both: what filled a lot and what drew on it).
    plus BIGINT NOT NULL,
    minus BIGINT NOT NULL,
    PRIMARY KEY (contract_id, period_start, kind, lot)
);

INSERT INTO ledger_sums (contract_id, period_start, kind, lot, plus, minus)
SELECT contract_id, period_start, kind, COALESCE(lot, ''),
       SUM(CASE WHEN minutes > 0 THEN minutes ELSE 0 END),
       SUM(CASE WHEN minutes < 0 THEN minutes ELSE 0 END)
FROM ledger_entries GROUP BY contract_id, period_start, kind, COALESCE(lot, '');

-- A statement-level trigger: the month close writes hundreds of entries per statement,
-- and summing them once per statement costs far less than an upsert per row.
CREATE FUNCTION ledger_sums_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_sums (contract_id, period_start, kind, lot, plus, minus)
    SELECT contract_id, period_start, kind, COALESCE(lot, ''),
           SUM(CASE WHEN minutes > 0 THEN minutes ELSE 0 END),
           SUM(CASE WHEN minutes < 0 THEN minutes ELSE 0 END)
    FROM new_entries GROUP BY contract_id, period_start, kind, COALESCE(lot, '')
    ON CONFLICT (contract_id, period_start, kind, lot)
    DO UPDATE SET plus = ledger_sums.plus + excluded.plus,
                  minus = ledger_sums.minus + excluded.minus;
    RETURN NULL;
END
$$;

CREATE TRIGGER ledger_sums_add AFTER INSERT ON ledger_entries
REFERENCING NEW TABLE AS new_entries
FOR EACH STATEMENT EXECUTE FUNCTION ledger_sums_add();
