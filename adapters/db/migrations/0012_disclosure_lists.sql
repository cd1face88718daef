-- A list view, dashboard or codec decode discloses many cases' personal data (a list's surname,
-- initial and birth year; the payloads the Temporal UI decodes) in one request: it writes one
-- row naming every case shown in `case_ids`, with `case_id` left empty. A row about one case
-- (a case view, a replay, an export) keeps naming it in `case_id`, as before.
ALTER TABLE disclosure_log ALTER COLUMN case_id DROP NOT NULL;
ALTER TABLE disclosure_log ADD COLUMN case_ids text[] NOT NULL DEFAULT '{}';
CREATE INDEX disclosure_log_by_cases ON disclosure_log USING gin (case_ids);

-- Such a row is written by record_shown() only (SECURITY DEFINER, like record_disclosure: the
-- runtime role cannot write the log itself). The instant is the database's own.
CREATE FUNCTION record_shown(
    p_user_id  text,
    p_role     text,
    p_state    text,
    p_case_ids text[],
    p_purpose  text,
    p_endpoint text,
    p_fields   text[]
) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO disclosure_log (user_id, role, state, case_ids, purpose, endpoint, fields)
    VALUES (p_user_id, p_role, p_state, coalesce(p_case_ids, '{}'), p_purpose, p_endpoint,
            coalesce(p_fields, '{}'))
    RETURNING id
$$;
