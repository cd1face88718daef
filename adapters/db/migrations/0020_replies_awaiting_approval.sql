-- Replies awaiting a supervisor's approval (issue 17): when the reply drafted on the case's
-- requested side was drafted (`ReplyDrafted`), NULL when none awaits (returned, sent, or the
-- case moved on). The projector keeps it from the case's events (`state.reply_draft`), so a
-- rebuild gives it back. The draft is the requested state's own: reads filter and count it only
-- for that state (adapters/db/case_queries.py), never for the requesting one.

ALTER TABLE cases ADD COLUMN reply_drafted_at timestamptz;

CREATE INDEX cases_awaiting_approval ON cases (requested, reply_drafted_at)
    WHERE reply_drafted_at IS NOT NULL;

-- The drafts already awaiting (recorded before this column): a case still received whose last
-- `ReplyDrafted` no `ReplyReturned` follows, as `evolve` leaves `reply_draft` (any status
-- change from received clears it). The projector keeps the column from here on.
UPDATE cases c
   SET reply_drafted_at = d.at
  FROM (SELECT DISTINCT ON (stream_id) stream_id, version, (data->>'at')::timestamptz AS at
          FROM case_events
         WHERE type = 'ReplyDrafted'
         ORDER BY stream_id, version DESC) d
 WHERE d.stream_id = c.case_id
   AND c.status = 'received'
   AND NOT EXISTS (SELECT 1 FROM case_events r
                    WHERE r.stream_id = d.stream_id AND r.type = 'ReplyReturned'
                      AND r.version > d.version);
