-- Notices become outbox rows in one statement: `record_notices` resolves each notice's
-- recipients from the directory (every active officer of that state and role; the role's shared
-- inbox `@<state>:<role>` when nobody holds it) and writes one row per recipient and channel.
-- Every officer gets the in-app inbox row; e-mail and webhook rows only where the directory has
-- an address and `p_channels` allows that channel. Rows are keyed (notice key, recipient,
-- channel), so a retried call writes nothing twice.
--
-- The case workflow calls it in the same statement as its event append (a transactional
-- outbox): the events and the notices they cause commit together or not at all.

CREATE FUNCTION record_notices(
    p_keys     text[],
    p_case_ids text[],
    p_states   text[],
    p_roles    text[],
    p_kinds    text[],
    p_subjects text[],
    p_payloads jsonb[],
    p_channels text[]
) RETURNS integer
-- PL/pgSQL, not SQL: its statement's plan is prepared once per connection, not on every call.
LANGUAGE plpgsql AS $$
DECLARE
    written integer;
BEGIN
    WITH notice AS (
        SELECT * FROM unnest(p_keys, p_case_ids, p_states, p_roles, p_kinds, p_subjects,
                             p_payloads)
                   AS n(key, case_id, state, role, kind, subject, payload)
    ), target AS (
        SELECT n.*, o.user_id AS recipient, c.channel
          FROM notice n
          JOIN officers o ON o.state = n.state AND o.role = n.role AND o.active
         CROSS JOIN LATERAL (VALUES ('inbox', true),
                                    ('email', o.email IS NOT NULL),
                                    ('webhook', o.webhook_url IS NOT NULL)) AS c(channel, usable)
         WHERE c.usable AND (c.channel = 'inbox' OR c.channel = ANY (p_channels))
        UNION ALL
        SELECT n.*, '@' || n.state || ':' || n.role, 'inbox'
          FROM notice n
         WHERE NOT EXISTS (SELECT 1 FROM officers o
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

-- A stream's version as the calling statement first saw it (STABLE: the statement's snapshot),
-- called in the same statement as an append: equal to the expected version when the append
-- wrote the batch, past it when the batch was found recorded already (a retry).
CREATE FUNCTION case_stream_head(p_stream_id text) RETURNS integer
STABLE LANGUAGE sql AS $$
    SELECT coalesce(max(version), 0) FROM case_events WHERE stream_id = p_stream_id
$$;
