-- Cases come in two kinds (docs/transit.md): a readmission (every case before this migration)
-- or a transit request. Lists filter on it and the statistics count each kind apart.
ALTER TABLE cases ADD COLUMN kind text NOT NULL DEFAULT 'readmission';
CREATE INDEX cases_kind_status ON cases (kind, status);
