-- Replies awaiting a supervisor's approval (issue 17): when the reply drafted on the case's
-- requested side was drafted (`ReplyDrafted`), NULL when none awaits (returned, sent, or the
-- case moved on). The projector keeps it from the case's events (`state.reply_draft`), so a
-- rebuild gives it back. The draft is the requested state's own: reads filter and count it only
-- for that state (adapters/db/case_queries.py), never for the requesting one.

ALTER TABLE cases ADD COLUMN reply_drafted_at timestamptz;

CREATE INDEX cases_awaiting_approval ON cases (requested, reply_drafted_at)
    WHERE reply_drafted_at IS NOT NULL;

-- The drafts already awaiting (recorded before this column): the projection starts again from
-- the first event, so every row is folded anew by the same `evolve` that keeps `reply_draft`
-- (as `CaseProjector.rebuild` does, without emptying the table: rows stay listed meanwhile, each
-- upserted with the same values and its `reply_drafted_at`).
DELETE FROM projection_checkpoints WHERE name = 'cases';
