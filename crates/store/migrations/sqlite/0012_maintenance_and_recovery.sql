-- Maintenance windows, resolve-on-recovery, and alerts held back by a window.
--
-- A window covers chosen checks of one client (rows in maintenance_window_checks) or,
-- with no such rows, every check of the client. Its recurrence is read by
-- tend_domain::maintenance: once (starts_at..ends_at), weekly (days, from/until wall
-- clock in timezone) or cron (cron in timezone, for duration_ms).

CREATE TABLE maintenance_windows (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    -- once, weekly, cron.
    kind TEXT NOT NULL,
    starts_at INTEGER,
    ends_at INTEGER,
    -- "mon,tue,…" and "HH:MM" for weekly windows.
    days TEXT,
    from_time TEXT,
    until_time TEXT,
    cron TEXT,
    duration_ms INTEGER,
    timezone TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- Set when a person ends the window early: inactive from then on.
    ended_at INTEGER,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX maintenance_windows_client ON maintenance_windows (client_id);

CREATE TABLE maintenance_window_checks (
    window_id INTEGER NOT NULL REFERENCES maintenance_windows(id),
    check_id INTEGER NOT NULL REFERENCES checks(id),
    PRIMARY KEY (window_id, check_id)
);

-- Recovery resolves the monitoring ticket (off unless chosen per check).
ALTER TABLE checks ADD COLUMN resolve_on_recovery INTEGER NOT NULL DEFAULT 0;
-- A down alert silenced by a maintenance window: when it was held back. The watcher
-- alerts then if the check is still down once no window covers it.
ALTER TABLE checks ADD COLUMN alert_held_at INTEGER;
-- The watcher looks for held alerts every pass: only the few held rows are indexed.
CREATE INDEX checks_alert_held ON checks (alert_held_at) WHERE alert_held_at IS NOT NULL;
