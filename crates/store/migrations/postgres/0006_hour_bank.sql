-- The hour bank: work types per plan, time logged on tickets, the append-only ledger of
-- hours per contract and period, the periods themselves (opened and closed once), and
-- the 75 % / 100 % alerts already sent in a period.

-- How a plan rounds logged time (the increment is plans.increment_minutes).
ALTER TABLE plans ADD COLUMN rounding_mode TEXT NOT NULL DEFAULT 'each-entry';
ALTER TABLE plans ADD COLUMN rounding_minimum_minutes BIGINT NOT NULL DEFAULT 0;

-- Work types are data per plan, seeded from the SOP's categories for every plan that
-- exists (plans created later get the same list from the store).
CREATE TABLE work_types (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id BIGINT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    coverage TEXT NOT NULL,
    rate_kind TEXT NOT NULL,
    position BIGINT NOT NULL,
    UNIQUE (plan_id, code)
);

WITH defaults (code, label, coverage, rate_kind, position) AS (VALUES
    ('bug-fix', 'Bug fix', 'included', 'none', 1),
    ('performance', 'Performance optimization', 'included', 'none', 2),
    ('minor-config', 'Minor configuration change', 'included', 'none', 3),
    ('monitoring', 'Monitoring and maintenance', 'included', 'none', 4),
    ('consultation', 'Consultation', 'included', 'none', 5),
    ('new-feature', 'New feature development', 'billable', 'hourly', 6),
    ('refactoring', 'Major refactoring', 'billable', 'hourly', 7),
    ('training', 'Training', 'billable', 'hourly', 8),
    ('data-work', 'Data work', 'billable', 'hourly', 9),
    ('emergency-after-hours', 'Emergency (after hours or weekend)', 'billable', 'emergency', 10)
)
INSERT INTO work_types (plan_id, code, label, coverage, rate_kind, position)
SELECT p.id, d.code, d.label, d.coverage, d.rate_kind, d.position FROM plans p CROSS JOIN defaults d;

-- A contract's hour-bank periods (local dates in the client's zone, end excluded). The
-- primary key makes opening a period happen once; closed_at is set by exactly one
-- transaction (UPDATE ... WHERE closed_at IS NULL), so closing twice is closing once,
-- from one instance or several. plan_id is the plan that governs the period.
CREATE TABLE hour_periods (
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    plan_id BIGINT NOT NULL REFERENCES plans(id),
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    PRIMARY KEY (contract_id, period_start)
);
CREATE INDEX hour_periods_open ON hour_periods(closed_at, period_end);

-- Time worked on a ticket. actual_minutes is the time worked; billable_minutes what the
-- entry adds to the bill after the plan's rounding. charge: included (drawn from the
-- bank) or billable (billed at rate_cents an hour). bank_state: drawn (the ledger has
-- its usage), waiting (deferred to period_start, drawn when that period opens), none
-- (billable work never touches the bank).
CREATE TABLE time_entries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    client_id BIGINT NOT NULL REFERENCES clients(id),
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    user_id BIGINT REFERENCES users(id),
    author_label TEXT NOT NULL,
    work_type TEXT NOT NULL,
    charge TEXT NOT NULL,
    rate_kind TEXT NOT NULL,
    rate_cents BIGINT NOT NULL,
    actual_minutes BIGINT NOT NULL,
    billable_minutes BIGINT NOT NULL,
    work_date TEXT NOT NULL,
    period_start TEXT NOT NULL,
    bank_state TEXT NOT NULL,
    after_limit TEXT,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX time_entries_contract_period ON time_entries(contract_id, period_start, id);
CREATE INDEX time_entries_ticket ON time_entries(ticket_id, work_date);

-- The ledger: signed minutes per contract and period, never updated or deleted.
CREATE TABLE ledger_entries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    period_start TEXT NOT NULL,
    kind TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    lot TEXT,
    reason TEXT,
    time_entry_id BIGINT REFERENCES time_entries(id),
    actor_label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ledger_entries_contract_period ON ledger_entries(contract_id, period_start, id);

-- Thresholds (75-percent, 100-percent) already announced in a period: once each.
CREATE TABLE hour_alerts (
    contract_id BIGINT NOT NULL REFERENCES contracts(id),
    period_start TEXT NOT NULL,
    threshold TEXT NOT NULL,
    used_minutes BIGINT NOT NULL,
    available_minutes BIGINT NOT NULL,
    fired_at BIGINT NOT NULL,
    PRIMARY KEY (contract_id, period_start, threshold)
);
