-- Requests and backlog items, their threads, dependencies, history and post-mortems.
-- A ticket's id is its number (#42), used by staff, the CLI and the API; client-facing
-- links will use public_id.

CREATE TABLE tickets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    client_id BIGINT NOT NULL REFERENCES clients(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    source TEXT,
    severity TEXT,
    status TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id),
    expected_outcome TEXT NOT NULL,
    next_action TEXT NOT NULL,
    acceptance_test TEXT NOT NULL,
    business_risk TEXT,
    revenue_impact TEXT,
    customer_effect TEXT,
    launch_deadline TEXT,
    -- 1 once someone has said whether the ticket depends on anything ("none" counts).
    dependencies_stated BIGINT NOT NULL,
    -- How many of the six required facts are missing (tend_domain::completeness),
    -- kept on every write so the backlog can filter incomplete tickets by index.
    missing_facts BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    first_response_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT
);
CREATE INDEX tickets_client_status ON tickets(client_id, status);
CREATE INDEX tickets_status ON tickets(status, severity);
CREATE INDEX tickets_owner ON tickets(owner_id);
CREATE INDEX tickets_missing ON tickets(missing_facts);

CREATE TABLE ticket_dependencies (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    blocked_by_id BIGINT NOT NULL REFERENCES tickets(id),
    PRIMARY KEY (ticket_id, blocked_by_id)
);
CREATE INDEX ticket_dependencies_blocker ON ticket_dependencies(blocked_by_id);

CREATE TABLE ticket_messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    visibility TEXT NOT NULL,
    author_label TEXT NOT NULL,
    author_user_id BIGINT REFERENCES users(id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, id);

-- Everything that moves a ticket's SLA clocks: creation, status and severity changes,
-- public replies. Clocks are derived from these rows, never stored.
CREATE TABLE ticket_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    actor_label TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);

CREATE TABLE post_mortems (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),
    root_cause TEXT NOT NULL,
    fix TEXT NOT NULL,
    prevention TEXT NOT NULL,
    monitoring_added TEXT NOT NULL,
    author_label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
