-- Event-stream checks: the workflow POSTs JSON events to /events/<uuid>. The check
-- itself is a row of `checks` (kind 'event-stream', no schedule); this adds what a
-- stream learns and keeps. Shapes and drift rules: tend_domain::payload_shape;
-- volume rules: tend_domain::volume.

CREATE TABLE event_streams (
    check_id INTEGER PRIMARY KEY REFERENCES checks(id),
    -- How many first events the shape is learned from, and how many events are kept.
    learn_events INTEGER NOT NULL,
    events_kept INTEGER NOT NULL,
    -- The learned shape as JSON (tend_domain::payload_shape::LearnedShape).
    shape TEXT NOT NULL,
    -- When learning finished; NULL while learning.
    learned_at INTEGER,
    -- Bumped by each relearn; drift findings belong to one generation.
    generation INTEGER NOT NULL,
    -- The first event ever: volume history counts from its hour.
    first_event_at INTEGER
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    check_id INTEGER NOT NULL REFERENCES checks(id),
    -- The check's event number (1, 2, ...): retention keeps the newest N.
    n INTEGER NOT NULL,
    at INTEGER NOT NULL,
    -- The JSON body as received.
    body TEXT NOT NULL,
    remote_addr TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    -- learning, ok or drift.
    verdict TEXT NOT NULL,
    findings INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_check_n ON events(check_id, n);

-- Event counts per check and UTC hour, kept after the events are pruned: the volume
-- baseline reads the same hour of the last 4 weeks.
CREATE TABLE event_hours (
    check_id INTEGER NOT NULL REFERENCES checks(id),
    hour INTEGER NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (check_id, hour)
);
CREATE INDEX event_hours_hour ON event_hours(hour);

-- Distinct drifts of a stream's current shape: one row per drift however many events
-- show it, so it is alerted once.
CREATE TABLE event_drifts (
    id INTEGER PRIMARY KEY,
    check_id INTEGER NOT NULL REFERENCES checks(id),
    generation INTEGER NOT NULL,
    signature TEXT NOT NULL,
    -- missing, type-changed, renamed (tend_domain::payload_shape::DriftKind).
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    new_path TEXT,
    expected TEXT NOT NULL,
    actual TEXT NOT NULL,
    first_event_n INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    seen INTEGER NOT NULL
);
CREATE UNIQUE INDEX event_drifts_signature ON event_drifts(check_id, generation, signature);

-- What an event-stream alert says (drift findings, volume against its baseline),
-- written with the flip so the alert job can put it in the ticket.
ALTER TABLE check_flips ADD COLUMN detail TEXT;
