-- Least privilege: the API and workers connect as a runtime role (default `readmit_app`) that
-- owns nothing; this owner applies the migrations. What the runtime role may do is one map,
-- adapters/db/privileges.py, granted after every migration: it reads `case_events` and
-- `disclosure_log` and appends to them only through the functions below and
-- append_case_event(s), which that step makes SECURITY DEFINER (run as this owner) with their
-- search_path pinned to this schema, EXECUTE granted to the runtime role alone. It may not
-- UPDATE, DELETE or TRUNCATE either log, INSERT into case_events, or touch a trigger or function.

-- One disclosure: who (of which state, in which role) saw or exported which case's personal
-- data, for what and where. The instant is the database's own: a caller cannot backdate it.
CREATE FUNCTION record_disclosure(
    p_user_id  text,
    p_role     text,
    p_state    text,
    p_case_id  text,
    p_purpose  text,
    p_endpoint text,
    p_fields   text[]
) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO disclosure_log (user_id, role, state, case_id, purpose, endpoint, fields)
    VALUES (p_user_id, p_role, p_state, p_case_id, p_purpose, p_endpoint,
            coalesce(p_fields, '{}'))
    RETURNING id
$$;

COMMENT ON TABLE disclosure_log IS
    'Append-only: rows are written by record_disclosure() only; UPDATE, DELETE and TRUNCATE raise.';
