-- Notices go to the assignee first (issue 17): a notice for a side of a case that has an
-- assignee (`payload->>'assignee'`, set by `domain.notices` from the case's `CaseAssigned`
-- events) goes to that officer alone, in the inbox and by e-mail or webhook where the directory
-- has an address, whatever their role (a supervisor may hold a case). A side with no assignee,
-- or whose assignee is no longer an active officer or supervisor of that state, is told as
-- before: every active holder of the notice's role in that state, else the role's shared inbox
-- `@<state>:<role>`. Notices without an assignee (escalations to supervisors among them) are
-- addressed exactly as migration 0008 addressed them. Same signature: callers are unchanged.

CREATE OR REPLACE FUNCTION record_notices(
    p_keys     text[],
    p_case_ids text[],
    p_states   text[],
    p_roles    text[],
    p_kinds    text[],
    p_subjects text[],
    p_payloads jsonb[],
    p_channels text[]
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    written integer;
BEGIN
    WITH notice AS (
        SELECT n.*, (SELECT a.user_id FROM officers a
                      WHERE a.user_id = n.payload->>'assignee' AND a.state = n.state
                        AND a.active AND a.role IN ('officer', 'supervisor')) AS assignee
          FROM unnest(p_keys, p_case_ids, p_states, p_roles, p_kinds, p_subjects, p_payloads)
               AS n(key, case_id, state, role, kind, subject, payload)
    ), target AS (
        SELECT n.key, n.case_id, n.state, n.role, n.kind, n.subject, n.payload,
               o.user_id AS recipient, c.channel
          FROM notice n
          JOIN officers o ON o.state = n.state AND o.active
                         AND (o.user_id = n.assignee OR (n.assignee IS NULL AND o.role = n.role))
         CROSS JOIN LATERAL (VALUES ('inbox', true),
                                    ('email', o.email IS NOT NULL),
                                    ('webhook', o.webhook_url IS NOT NULL)) AS c(channel, usable)
         WHERE c.usable AND (c.channel = 'inbox' OR c.channel = ANY (p_channels))
        UNION ALL
        SELECT n.key, n.case_id, n.state, n.role, n.kind, n.subject, n.payload,
               '@' || n.state || ':' || n.role, 'inbox'
          FROM notice n
         WHERE n.assignee IS NULL
           AND NOT EXISTS (SELECT 1 FROM officers o
                            WHERE o.state = n.state AND o.role = n.role AND o.active)
    )
    INSERT INTO notifications (key, notice_key, case_id, recipient, state, role, channel, kind,
                               subject, payload, status)
    SELECT t.key || ':' || t.recipient || ':' || t.channel, t.key, t.case_id, t.recipient,
           t.state, t.role, t.channel, t.kind, t.subject, t.payload,
           CASE WHEN t.channel = 'inbox' THEN 'delivered' ELSE 'pending' END
      FROM target t
    ON CONFLICT (key) DO NOTHING;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
