-- Person search (issue 17): the blind index. Names, birth dates and document numbers are sealed
-- with each case's key, so the search compares keyed hashes (HMAC-SHA256 under the
-- installation's search key) of their normalised tokens: one row per case, kind and hash. The
-- projector replaces a case's rows when its person or evidence is recorded or amended; an
-- erasure deletes them in the transaction that erases the case's key.

CREATE TABLE person_index (
    case_id text  NOT NULL,
    kind    text  NOT NULL CHECK (kind IN ('surname', 'surname_skeleton', 'given_name',
                                           'given_name_skeleton', 'birth_date', 'document')),
    hash    bytea NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (case_id, kind, hash)
);

CREATE INDEX person_index_by_hash ON person_index (hash) INCLUDE (case_id);
