-- Next-update targets, the outbox every message leaves through, SLA notices and the
-- slots that let one instance (of several on one database) run a recurring job.

-- Plans made before next-update targets existed get their first-response target as
-- their update cadence; fresh databases already have them from the plan seed.
INSERT INTO sla_targets (plan_id, severity, kind, amount, unit, clock, after_hours_amount, label)
SELECT s.plan_id, s.severity, 'next-update', s.amount, s.unit, s.clock, s.after_hours_amount, s.label
FROM sla_targets s
WHERE s.kind = 'response'
  AND NOT EXISTS (SELECT 1 FROM sla_targets x WHERE x.plan_id = s.plan_id AND x.kind = 'next-update');

-- Every message Tend sends is first a row here, written in the same transaction as its
-- cause, then delivered by a job with retries. event_key names the event (one message
-- per event and recipient), so writing the same event twice adds nothing.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    event_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    client_id INTEGER REFERENCES clients(id),
    ticket_id INTEGER REFERENCES tickets(id),
    -- pending, sending (claimed under a lease), sent, failed (gave up; an operator may retry)
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_ticket ON outbox(ticket_id);

-- An SLA warning or breach, once per clock cycle: the row is the proof it was noticed,
-- and the primary key is what stops a second scan (or instance) from noticing it again.
CREATE TABLE sla_notices (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    clock TEXT NOT NULL,
    cycle TEXT NOT NULL,
    kind TEXT NOT NULL,
    fell_at INTEGER NOT NULL,
    noticed_at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, clock, cycle, kind)
);

-- The last slot each recurring job ran for. An instance runs a slot only if it moves
-- this row forward, so two instances never run the same slot.
CREATE TABLE job_slots (
    job TEXT PRIMARY KEY,
    slot INTEGER NOT NULL,
    holder TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    outcome TEXT
);
