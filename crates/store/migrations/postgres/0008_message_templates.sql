-- Client messages from templates: the agency's edited templates (a kind without a row
-- uses Tend's default), and on each thread message who got it by email.

CREATE TABLE message_templates (
    kind TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

ALTER TABLE ticket_messages ADD COLUMN emailed_to TEXT;
