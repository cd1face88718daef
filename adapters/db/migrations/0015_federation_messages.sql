-- The messages a node exchanges with its peers (docs/federation.md), kept on both sides as
-- signed: what this node sent (direction 'out') and what it received ('in'), each as the compact
-- JWS that travelled, and the final receipts, those this node got for its messages ('out') and
-- those it gave ('in'). Each row is its own proof (the peer's or this node's signature), and the
-- chain heads inside cross-anchor the two nodes' histories: `readmit audit verify --peer`
-- compares them. Append-only: the runtime role inserts and reads, never changes or deletes.

CREATE TABLE federation_messages (
    message_id   uuid        NOT NULL,
    direction    text        NOT NULL CHECK (direction IN ('out', 'in')),
    case_id      text        NOT NULL,
    peer         text        NOT NULL CHECK (peer ~ '^[A-Z]{2}$'),
    seq          integer     NOT NULL CHECK (seq >= 1),
    kind         text        NOT NULL CHECK (kind IN ('command', 'consequence')),
    command      text        NOT NULL,
    sent_at      timestamptz NOT NULL,
    head_version integer,
    head_hash    text,
    content_hash text        NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    token        text        NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, direction)
);
CREATE INDEX federation_messages_by_case ON federation_messages (case_id, direction, seq);

CREATE TABLE federation_receipts (
    message_id     uuid        NOT NULL,
    direction      text        NOT NULL CHECK (direction IN ('out', 'in')),
    case_id        text        NOT NULL,
    peer           text        NOT NULL CHECK (peer ~ '^[A-Z]{2}$'),
    outcome        text        NOT NULL CHECK (outcome IN ('applied', 'refused')),
    code           text,
    received_at    timestamptz NOT NULL,
    content_hash   text        NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    head_version   integer,
    head_hash      text,
    echoed_version integer,
    echoed_hash    text,
    token          text        NOT NULL,
    stored_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, direction)
);
CREATE INDEX federation_receipts_by_case ON federation_receipts (case_id, direction);
