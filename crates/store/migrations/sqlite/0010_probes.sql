-- HTTP probes: checks of kind http-probe, which Tend calls on a fixed cadence.
--
-- A probe's settings live beside its check row. Header values are stored as written:
-- a credential is only ever a reference to an environment variable (${env:TEND_PROBE_…}),
-- read when the probe runs (tend_domain::probe::parse_headers refuses literal secrets).
-- next_slot_at is the start of the next run; claiming a run moves it to the following
-- slot in the same transaction, so no slot runs twice.

CREATE TABLE probe_settings (
    check_id INTEGER PRIMARY KEY REFERENCES checks(id),
    url TEXT NOT NULL,
    -- GET, HEAD, POST, ... (tend_domain::probe::ProbeMethod).
    method TEXT NOT NULL,
    -- One "Name: value" per line.
    headers TEXT NOT NULL,
    interval_ms INTEGER NOT NULL,
    timeout_ms INTEGER NOT NULL,
    -- A code (200) or a class (2xx).
    expect TEXT NOT NULL,
    keyword TEXT,
    -- 1: the keyword must NOT appear.
    keyword_absent INTEGER NOT NULL,
    max_latency_ms INTEGER,
    -- Slots are anchor_at + k * interval_ms.
    anchor_at INTEGER NOT NULL,
    next_slot_at INTEGER NOT NULL,
    -- The slot of the newest result that set the check's state (results of slow runs
    -- arriving after a newer one do not move the state back).
    last_slot_at INTEGER,
    result_count INTEGER NOT NULL
);
CREATE INDEX probe_settings_next_slot ON probe_settings(next_slot_at);

-- The last results of each probe (the newest N, as for pings).
CREATE TABLE probe_results (
    id INTEGER PRIMARY KEY,
    check_id INTEGER NOT NULL REFERENCES checks(id),
    -- The probe's result number (1, 2, ...): retention keeps the newest N.
    n INTEGER NOT NULL,
    -- The slot it ran for, and when it really started (lateness = started_at - slot_at).
    slot_at INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    -- Time to the answer; NULL when none came.
    latency_ms INTEGER,
    status INTEGER,
    up INTEGER NOT NULL,
    -- "OK", "expected 200, got 503", "timed out after 10 s", ...
    reason TEXT NOT NULL
);
CREATE UNIQUE INDEX probe_results_check_n ON probe_results(check_id, n);
