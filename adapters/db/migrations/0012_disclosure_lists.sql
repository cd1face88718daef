-- A list view, dashboard or codec decode discloses many cases' personal data (a list's surname,
-- initial and birth year; the payloads the Temporal UI decodes) in one request: it writes one
-- row naming every case shown in `case_ids`, with `case_id` left empty. A row about one case
-- (a case view, a replay, an export) keeps naming it in `case_id`, as before.
ALTER TABLE disclosure_log ALTER COLUMN case_id DROP NOT NULL;
ALTER TABLE disclosure_log ADD COLUMN case_ids text[] NOT NULL DEFAULT '{}';
CREATE INDEX disclosure_log_by_cases ON disclosure_log USING gin (case_ids);
