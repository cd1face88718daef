-- The `cases` read model for lists and dashboards, and the checkpoints of projectors.
-- Rebuildable from case_events at any time; never the source of truth.

CREATE TABLE cases (
    case_id               text        PRIMARY KEY,
    requesting            text        NOT NULL,
    requested             text        NOT NULL,
    agreement_id          text        NOT NULL,
    protocol_state        text,
    procedure             text        NOT NULL,
    category              text        NOT NULL,
    status                text        NOT NULL,
    -- no more personal data than an officer's list needs: surname, initial, birth year
    person_summary        text        NOT NULL,
    deadlines             jsonb       NOT NULL DEFAULT '{}',
    open_limits           text[]      NOT NULL DEFAULT '{}',
    next_limit            text,
    next_due              timestamptz,
    overdue               boolean     NOT NULL DEFAULT false,
    overdue_limits        text[]      NOT NULL DEFAULT '{}',
    unverified_parameters text[]      NOT NULL DEFAULT '{}',
    verification_status   text,
    opened_at             timestamptz NOT NULL,
    submitted_at          timestamptz,
    received_at           timestamptz,
    replied_at            timestamptz,
    transferred_at        timestamptz,
    closed_at             timestamptz,
    updated_at            timestamptz NOT NULL,
    version               integer     NOT NULL,
    last_position         bigint      NOT NULL
);

-- what officers ask: my state's cases by status, overdue first, by next deadline, by id prefix
CREATE INDEX cases_requesting_status ON cases (requesting, status, next_due);
CREATE INDEX cases_requested_status ON cases (requested, status, next_due);
CREATE INDEX cases_overdue_first ON cases (overdue DESC, next_due NULLS LAST, case_id);
CREATE INDEX cases_next_due ON cases (next_due, case_id) WHERE next_due IS NOT NULL;
CREATE INDEX cases_id_prefix ON cases (case_id text_pattern_ops);
CREATE INDEX cases_agreement_status ON cases (agreement_id, status);

CREATE TABLE projection_checkpoints (
    name     text   PRIMARY KEY,
    position bigint NOT NULL
);
