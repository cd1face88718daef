-- Assignment (issue 17): each side of a case has an assignee, the user id of the officer who
-- works on it for their state (`CaseAssigned` events; NULL: nobody). The projector keeps them
-- from the case's events, so a rebuild gives them back; lists filter on them ("assigned to me",
-- "unassigned" on the caller's side, one officer's cases for a supervisor).

ALTER TABLE cases
    ADD COLUMN requesting_assignee text,
    ADD COLUMN requested_assignee  text;

CREATE INDEX cases_by_requesting_assignee ON cases (requesting, requesting_assignee);
CREATE INDEX cases_by_requested_assignee ON cases (requested, requested_assignee);
