-- Heartbeat checks and their pings (healthchecks.io-compatible ping API).
--
-- A client has one ping key for slug URLs (/ping/<ping-key>/<slug>). A check's last
-- pings and deadlines live on its row, so the ping writer and the watcher read one row;
-- the state is computed by tend_domain::check::heartbeat_state.

CREATE TABLE client_ping_keys (
    client_id BIGINT PRIMARY KEY REFERENCES clients(id),
    ping_key TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE checks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The UUID in /ping/<uuid>: random, never reused.
    public_id TEXT NOT NULL UNIQUE,
    client_id BIGINT NOT NULL REFERENCES clients(id),
    name TEXT NOT NULL,
    -- Unique per client among checks not deleted; names the check in slug URLs.
    slug TEXT NOT NULL,
    workflow TEXT NOT NULL,
    -- revenue-critical, customer-facing, internal (tend_domain::check::Criticality).
    criticality TEXT NOT NULL,
    -- heartbeat (http-probe and event-stream later).
    kind TEXT NOT NULL,
    -- Either a period, or a cron expression with its IANA timezone.
    period_ms BIGINT,
    cron TEXT,
    timezone TEXT,
    grace_ms BIGINT NOT NULL,
    -- new, up, late, down, paused (tend_domain::check::CheckState).
    state TEXT NOT NULL,
    paused BIGINT NOT NULL,
    -- The last success or failure, whether it was a failure, and a start since then.
    last_ping_at BIGINT,
    last_failed BIGINT NOT NULL,
    started_at BIGINT,
    -- When it turns late and down unless a ping arrives; NULL when no deadline runs.
    next_due_at BIGINT,
    down_at BIGINT,
    ping_count BIGINT NOT NULL,
    -- The open monitoring ticket of the current failure, if any.
    alert_ticket_id BIGINT REFERENCES tickets(id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX checks_client_slug ON checks(client_id, slug) WHERE deleted_at IS NULL;
CREATE INDEX checks_client_name ON checks(client_id, name);
CREATE INDEX checks_state ON checks(state, id);
-- The watcher's scan: checks whose next deadline has passed.
CREATE INDEX checks_next_due ON checks(next_due_at);

CREATE TABLE pings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_id BIGINT NOT NULL REFERENCES checks(id),
    -- The check's ping number (1, 2, ...): retention keeps the newest N.
    n BIGINT NOT NULL,
    at BIGINT NOT NULL,
    -- success, start, fail, log, exit (tend_domain::ping_url::Signal::kind).
    kind TEXT NOT NULL,
    exit_status BIGINT,
    method TEXT NOT NULL,
    -- The request body, cut to the configured limit.
    body TEXT NOT NULL,
    remote_addr TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    rid TEXT,
    -- Run time, when this ping ends a run whose start is known.
    duration_ms BIGINT
);
CREATE UNIQUE INDEX pings_check_n ON pings(check_id, n);
CREATE INDEX pings_check_rid ON pings(check_id, rid);

-- Ping counts per check and hour, kept after the pings themselves are pruned.
CREATE TABLE ping_hours (
    check_id BIGINT NOT NULL REFERENCES checks(id),
    -- UTC milliseconds at the start of the hour.
    hour BIGINT NOT NULL,
    total BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    PRIMARY KEY (check_id, hour)
);

-- State changes of checks.
CREATE TABLE check_flips (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_id BIGINT NOT NULL REFERENCES checks(id),
    at BIGINT NOT NULL,
    old_state TEXT NOT NULL,
    new_state TEXT NOT NULL,
    -- What caused it: a ping, a missed deadline, a person pausing.
    reason TEXT NOT NULL,
    -- Whether the alert job has acted on it (ticket, notification).
    handled_at BIGINT
);
CREATE INDEX check_flips_check ON check_flips(check_id, at);
CREATE INDEX check_flips_unhandled ON check_flips(handled_at, id);
