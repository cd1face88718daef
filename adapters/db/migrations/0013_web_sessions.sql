-- Web sessions kept on the server, so that signing out ends one: the browser's cookie holds a
-- random token, this table only its SHA-256. A page is served only while its row is unrevoked and
-- unexpired. The principal is kept as the sign-in established it (the directory, a token or
-- the identity provider's claims).

CREATE TABLE web_sessions (
    id_hash    bytea       PRIMARY KEY,
    user_id    text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('officer', 'supervisor', 'auditor', 'admin')),
    state      text,
    states     text[]      NOT NULL DEFAULT '{}',
    via        text        NOT NULL CHECK (via IN ('directory', 'token', 'oidc')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX web_sessions_by_user ON web_sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
