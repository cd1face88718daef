-- Per-case data keys (envelope encryption): each case's personal data is sealed with its own
-- AES-256 key, stored here wrapped by a master key from settings. Erasing a case's key
-- (crypto-shredding, when its retention ends) leaves the sealed events, and their hash chain,
-- in place but unreadable, in the event store and in Temporal's history alike.
CREATE TABLE case_keys (
    case_id        text        PRIMARY KEY,
    master_key_id  text,
    wrapped        bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    rewrapped_at   timestamptz,
    erased_at      timestamptz,
    erasure_reason text,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL)),
    CHECK ((wrapped IS NULL) = (master_key_id IS NULL))
);
CREATE INDEX case_keys_by_master ON case_keys (master_key_id) WHERE wrapped IS NOT NULL;

-- An erased key never comes back: no update may give an erased row key material again.
CREATE FUNCTION case_keys_stay_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.erased_at IS NOT NULL THEN
        RAISE EXCEPTION 'the data key of case % was erased on %', OLD.case_id, OLD.erased_at
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER case_keys_stay_erased BEFORE UPDATE ON case_keys
    FOR EACH ROW EXECUTE FUNCTION case_keys_stay_erased();
