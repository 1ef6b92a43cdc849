-- Change records and release batches. A batch belongs to one client, because its
-- release notes go to that client; each ticket carries at most one change record,
-- which may ship in one of its client's batches.

CREATE TABLE release_batches (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    name TEXT NOT NULL,
    -- YYYY-MM-DD, or NULL when not yet planned for a day.
    planned_for TEXT,
    -- planned or released (tend_domain::change::ReleaseState).
    state TEXT NOT NULL,
    released_at INTEGER,
    released_by TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX release_batches_client_name ON release_batches(client_id, name);
CREATE INDEX release_batches_state ON release_batches(state, planned_for);

CREATE TABLE ticket_changes (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
    what_changed TEXT NOT NULL,
    -- One system per line.
    systems_touched TEXT NOT NULL,
    qa_before_path TEXT NOT NULL,
    qa_before_result TEXT NOT NULL,
    qa_after_path TEXT NOT NULL,
    qa_after_result TEXT NOT NULL,
    release_id INTEGER REFERENCES release_batches(id),
    client_notes TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ticket_changes_release ON ticket_changes(release_id);
