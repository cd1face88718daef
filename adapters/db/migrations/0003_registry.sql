-- The requested state's population and document registry, as the default registry adapter
-- (activities/registry_pg.py) reads it. Filled by `readmit registry import FILE.csv`; a state
-- with its own registry service plugs in another adapter instead.

CREATE TABLE registry_persons (
    state           text        NOT NULL CHECK (state ~ '^[A-Z]{2}$'),
    person_id       text        NOT NULL CHECK (length(person_id) BETWEEN 1 AND 100),
    surname         text        NOT NULL CHECK (length(surname) BETWEEN 1 AND 200),
    given_names     text        NOT NULL CHECK (length(given_names) BETWEEN 1 AND 200),
    birth_date      date        NOT NULL,
    birth_place     text,
    sex             text        CHECK (sex IN ('F', 'M', 'X')),
    nationality     text        CHECK (nationality ~ '^[A-Z]{2,3}$'),
    -- UNZR (UA), IDNP (MD), PESEL (PL), CNP (RO)…: upper case, no spaces; UNZR with its dash
    personal_number text        CHECK (personal_number ~ '^\S{1,40}$'),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (state, person_id)
);
CREATE INDEX registry_persons_by_birth_date ON registry_persons (state, birth_date);
CREATE INDEX registry_persons_by_personal_number ON registry_persons (state, personal_number);

-- Document numbers are stored normalised (upper case, no spaces), as lookups normalise them;
-- old Ukrainian internal passports have Cyrillic series (СН123456), so any letters are allowed.
CREATE TABLE registry_documents (
    state       text        NOT NULL,
    number      text        NOT NULL CHECK (number ~ '^\S{1,40}$' AND number = upper(number)),
    kind        text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{1,40}$'),
    person_id   text        NOT NULL,
    issued_on   date,
    valid_until date        CHECK (valid_until >= issued_on),
    status      text        NOT NULL DEFAULT 'valid'
                            CHECK (status IN ('valid', 'lost', 'stolen', 'revoked')),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (state, number),
    FOREIGN KEY (state, person_id) REFERENCES registry_persons (state, person_id)
        ON DELETE CASCADE
);
CREATE INDEX registry_documents_by_person ON registry_documents (state, person_id);
