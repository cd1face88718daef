-- What the API keeps: the disclosure log (append-only), idempotency keys, case numbers.

CREATE TABLE disclosure_log (
    id         bigserial   PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    user_id    text        NOT NULL,
    role       text        NOT NULL,
    state      text,
    case_id    text        NOT NULL,
    purpose    text        NOT NULL,
    endpoint   text        NOT NULL,
    fields     text[]      NOT NULL DEFAULT '{}'
);
CREATE INDEX disclosure_log_by_case ON disclosure_log (case_id, at);
CREATE INDEX disclosure_log_by_user ON disclosure_log (user_id, at);

CREATE FUNCTION disclosure_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'disclosure_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER disclosure_log_no_update BEFORE UPDATE OR DELETE ON disclosure_log
    FOR EACH ROW EXECUTE FUNCTION disclosure_log_is_append_only();
CREATE TRIGGER disclosure_log_no_truncate BEFORE TRUNCATE ON disclosure_log
    FOR EACH STATEMENT EXECUTE FUNCTION disclosure_log_is_append_only();

-- A POST with an Idempotency-Key answers a retry with the first answer.
CREATE TABLE idempotency_keys (
    principal    text        NOT NULL,
    key          text        NOT NULL,
    method       text        NOT NULL,
    path         text        NOT NULL,
    request_hash text        NOT NULL,
    status_code  integer,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

-- Case ids: <requesting>-<requested>-<year>-<six digits>, numbered per prefix.
CREATE TABLE case_numbers (
    prefix text    PRIMARY KEY,
    last   integer NOT NULL
);

-- The officers' list order (overdue first, then by next deadline) as one keyset for paging.
CREATE INDEX cases_list_order ON cases (
    ((NOT overdue)::int), (coalesce(next_due, 'infinity'::timestamptz)), case_id
);
