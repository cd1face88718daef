-- The directory of officers and supervisors per state and role, and the notification outbox.

CREATE TABLE officers (
    user_id      text        PRIMARY KEY CHECK (user_id ~ '^[A-Za-z0-9._@-]{1,100}$'),
    state        text        NOT NULL CHECK (state ~ '^[A-Z]{2}$'),
    role         text        NOT NULL CHECK (role IN ('officer', 'supervisor', 'auditor', 'admin')),
    display_name text        NOT NULL,
    email        text,
    webhook_url  text,
    locale       text        NOT NULL DEFAULT 'en',
    active       boolean     NOT NULL DEFAULT true,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX officers_by_state_role ON officers (state, role) WHERE active;

-- One row per notice, recipient and channel. `key` (notice key + recipient + channel) makes
-- writing idempotent: a retried activity never sends twice.
CREATE TABLE notifications (
    id          bigserial   PRIMARY KEY,
    key         text        NOT NULL UNIQUE,
    notice_key  text        NOT NULL,
    case_id     text        NOT NULL,
    recipient   text        NOT NULL,
    state       text        NOT NULL,
    role        text        NOT NULL,
    channel     text        NOT NULL CHECK (channel IN ('inbox', 'email', 'webhook')),
    kind        text        NOT NULL,
    subject     text        NOT NULL,
    payload     jsonb       NOT NULL,
    status      text        NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'sent', 'failed', 'delivered')),
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text,
    next_try_at timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    read_at     timestamptz
);
CREATE INDEX notifications_to_dispatch ON notifications (next_try_at) WHERE status = 'pending';
CREATE INDEX notifications_inbox ON notifications (recipient, created_at DESC)
    WHERE channel = 'inbox';
CREATE INDEX notifications_by_case ON notifications (case_id);
