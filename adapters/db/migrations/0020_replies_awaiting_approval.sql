-- Replies awaiting a supervisor's approval (issue 17): when the reply drafted on the case's
-- requested side was drafted (`ReplyDrafted`), NULL when none awaits (returned, sent, or the
-- case moved on). The projector keeps it from the case's events (`state.reply_draft`), so a
-- rebuild gives it back. The draft is the requested state's own: reads filter and count it only
-- for that state (adapters/db/case_queries.py), never for the requesting one.

ALTER TABLE cases ADD COLUMN reply_drafted_at timestamptz;

CREATE INDEX cases_awaiting_approval ON cases (requested, reply_drafted_at)
    WHERE reply_drafted_at IS NOT NULL;
