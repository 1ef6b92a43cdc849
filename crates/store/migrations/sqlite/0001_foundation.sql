-- Staff, sessions, tokens, plans, clients, contacts, contracts and the audit log.
-- Times are UTC milliseconds; money is cents; durations are minutes; dates are ISO text.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    timezone TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    monthly_fee_cents INTEGER NOT NULL,
    included_minutes INTEGER NOT NULL,
    rollover_max_minutes INTEGER NOT NULL,
    bank_max_minutes INTEGER NOT NULL,
    overage_rate_cents INTEGER NOT NULL,
    emergency_rate_cents INTEGER NOT NULL,
    increment_minutes INTEGER NOT NULL,
    report_cadence TEXT NOT NULL,
    checkin_cadence TEXT NOT NULL,
    channels TEXT NOT NULL,
    emergency_included INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE sla_targets (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    severity TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount INTEGER,
    unit TEXT NOT NULL,
    clock TEXT NOT NULL,
    after_hours_amount INTEGER,
    label TEXT,
    UNIQUE (plan_id, severity, kind)
);

CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    timezone TEXT NOT NULL,
    business_hours TEXT NOT NULL,
    holidays TEXT NOT NULL,
    owner_id INTEGER REFERENCES users(id),
    -- The newest contract, kept in step by the store so lists need no per-row subquery.
    current_contract_id INTEGER,
    notes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX clients_name ON clients(name_lower, id);
CREATE INDEX clients_owner ON clients(owner_id);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    phone TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (client_id, email)
);

CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    support_model TEXT NOT NULL,
    stabilization_weeks INTEGER,
    start_date TEXT NOT NULL,
    billing_period TEXT NOT NULL,
    renewal_date TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX contracts_client ON contracts(client_id);
CREATE INDEX contracts_plan_state ON contracts(plan_id, state);

CREATE TABLE contract_plan_changes (
    id INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contracts(id),
    from_plan_id INTEGER REFERENCES plans(id),
    to_plan_id INTEGER NOT NULL REFERENCES plans(id),
    effective_date TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX contract_plan_changes_contract ON contract_plan_changes(contract_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id INTEGER,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER,
    client_id INTEGER,
    summary TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX audit_log_client ON audit_log(client_id, id);
