-- Attachments (issue 17): the sealed bytes of the files added to a case, when PostgreSQL is the
-- attachment store (READMIT_ATTACHMENT_STORE=postgres, the default). Content-addressed: one row
-- per case and SHA-256 of the plaintext, so the same file uploaded again is kept once. The bytes
-- are sealed with the case's data key (AES-256-GCM, bound to the case and the hash): erasing
-- the key makes them unreadable, and erasure deletes the rows as well.

CREATE TABLE case_attachments (
    case_id    text        NOT NULL,
    sha256     text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    sealed     bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, sha256)
);
