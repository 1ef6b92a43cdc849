-- The ledger summed per contract, period, kind and lot, kept by a trigger so that every
-- way an entry is written (logging time, adjustments, the month close) keeps it true.
-- The month close and the dashboard read these few rows instead of every entry; the
-- entries stay the record (a test checks the sums against them).
-- `lot` is '' for entries without one (a primary key cannot hold NULL as a value).
CREATE TABLE ledger_sums (
    contract_id INTEGER NOT NULL REFERENCES contracts(id),
    period_start TEXT NOT NULL,
    kind TEXT NOT NULL,
    lot TEXT NOT NULL,
    -- The entries' positive minutes and negative minutes, summed apart (the month
    -- close needs both: what filled a lot and what drew on it).
    plus INTEGER NOT NULL,
    minus INTEGER NOT NULL,
    PRIMARY KEY (contract_id, period_start, kind, lot)
);

INSERT INTO ledger_sums (contract_id, period_start, kind, lot, plus, minus)
SELECT contract_id, period_start, kind, COALESCE(lot, ''),
       SUM(CASE WHEN minutes > 0 THEN minutes ELSE 0 END),
       SUM(CASE WHEN minutes < 0 THEN minutes ELSE 0 END)
FROM ledger_entries GROUP BY contract_id, period_start, kind, COALESCE(lot, '');

CREATE TRIGGER ledger_sums_add AFTER INSERT ON ledger_entries
BEGIN
    INSERT INTO ledger_sums (contract_id, period_start, kind, lot, plus, minus)
    VALUES (NEW.contract_id, NEW.period_start, NEW.kind, COALESCE(NEW.lot, ''),
            CASE WHEN NEW.minutes > 0 THEN NEW.minutes ELSE 0 END,
            CASE WHEN NEW.minutes < 0 THEN NEW.minutes ELSE 0 END)
    ON CONFLICT (contract_id, period_start, kind, lot)
    DO UPDATE SET plus = plus + excluded.plus, minus = minus + excluded.minus;
END;
