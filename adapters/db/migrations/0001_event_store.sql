-- The append-only, hash-chained log of case events (see readmit/db/eventstore.py).
-- Objects are created in the current search_path schema: never qualify them.

CREATE TABLE case_events (
    global_position bigint      NOT NULL CHECK (global_position >= 1),
    stream_id       text        NOT NULL CHECK (stream_id <> ''),
    version         integer     NOT NULL CHECK (version >= 1),
    event_id        uuid        NOT NULL,
    type            text        NOT NULL CHECK (type <> ''),
    schema_version  integer     NOT NULL CHECK (schema_version >= 1),
    data            jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    metadata        jsonb       NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
    recorded_at     timestamptz NOT NULL,
    prev_hash       bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash            bytea       NOT NULL CHECK (octet_length(hash) = 32),
    CONSTRAINT case_events_pkey PRIMARY KEY (stream_id, version),
    CONSTRAINT case_events_global_position_key UNIQUE (global_position),
    CONSTRAINT case_events_event_id_key UNIQUE (event_id)
);

COMMENT ON TABLE case_events IS
    'Append-only: rows are written by append_case_events() only; UPDATE, DELETE and TRUNCATE raise.';

-- The database itself refuses to rewrite history, whoever asks.
CREATE FUNCTION case_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_events is append-only: % refused', TG_OP
        USING ERRCODE = 'RM003';
END
$$;

CREATE TRIGGER case_events_no_update_delete
    BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION case_events_refuse_change();

CREATE TRIGGER case_events_no_truncate
    BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION case_events_refuse_change();

-- Appends a batch to one stream in one transaction and one round trip; see eventstore.py for
-- the ordering technique. p_heads/p_tails are each event's canonical JSON around its
-- recorded_at string (computed by the client, readmit/db/canonical.py); the chain is completed
-- here so that the database's clock can be used for recorded_at.
-- Returns the first position and version, every recorded_at and hash, and the first prev_hash.
-- Errors: RM001 = stale expected version (DETAIL = actual version),
--         RM002 = event ids already recorded, but not as this very batch;
--         23505 on case_events_event_id_key = an event id used on another stream.
CREATE FUNCTION append_case_events(
    p_stream_id        text,
    p_expected_version integer,
    p_event_ids        uuid[],
    p_types            text[],
    p_schema_versions  integer[],
    p_data             jsonb[],
    p_metadata         jsonb[],
    p_recorded_at      timestamptz[],
    p_heads            bytea[],
    p_tails            bytea[],
    OUT first_position  bigint,
    OUT first_version   integer,
    OUT recorded_ats    timestamptz[],
    OUT first_prev_hash bytea,
    OUT hashes          bytea[]
)
LANGUAGE plpgsql AS $$
DECLARE
    n        integer := cardinality(p_event_ids);
    v_actual integer;
    v_prev   bytea;
    v_now    timestamptz;
    v_now_text bytea;
BEGIN
    IF n IS NULL OR n = 0 THEN
        RETURN;
    END IF;

    -- One appender at a time from here to the end of COMMIT: positions are therefore handed out
    -- in commit order, max + 1 is gap-free, and no reader ever sees p + 1 before p. Every
    -- statement below runs with a fresh snapshot, taken after the lock, so it sees the rows
    -- of the appender before.
    PERFORM pg_advisory_xact_lock(1919250276, 'case_events'::regclass::oid::integer);

    SELECT coalesce(head.version, 0), head.hash, last.position
      INTO v_actual, v_prev, first_position
      FROM (SELECT coalesce(max(e.global_position), 0) AS position FROM case_events e) last
      LEFT JOIN (SELECT e.version, e.hash FROM case_events e
                  WHERE e.stream_id = p_stream_id ORDER BY e.version DESC LIMIT 1) head ON true;
    IF v_actual <> p_expected_version THEN
        -- A retry of a batch that was recorded (its acknowledgement lost) lands here, since the
        -- stream has moved past its expected version: answer with what was recorded.
        SELECT r.first_position, r.first_version, r.recorded_ats, r.first_prev_hash, r.hashes
          INTO first_position, first_version, recorded_ats, first_prev_hash, hashes
          FROM case_events_recorded_batch(p_stream_id, p_event_ids, p_types, p_schema_versions,
                                          p_data, p_metadata, p_recorded_at) r;
        IF first_position IS NULL THEN
            RAISE EXCEPTION 'stream % is at version %, expected %',
                p_stream_id, v_actual, p_expected_version
                USING ERRCODE = 'RM001', DETAIL = v_actual::text;
        END IF;
        RETURN;
    END IF;

    first_position := first_position + 1;
    first_version := v_actual + 1;
    first_prev_hash := coalesce(v_prev, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    v_now := clock_timestamp();  -- after the lock: recorded_at never decreases along positions
    v_now_text := convert_to(to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8');
    v_prev := first_prev_hash;
    recorded_ats := array_fill(v_now, ARRAY[n]);
    hashes := '{}';
    FOR i IN 1 .. n LOOP
        IF p_recorded_at[i] IS NULL THEN
            v_prev := sha256(v_prev || p_heads[i] || v_now_text || p_tails[i]);
        ELSE
            recorded_ats[i] := p_recorded_at[i];
            v_prev := sha256(v_prev || p_heads[i]
                || convert_to(to_char(p_recorded_at[i] AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8')
                || p_tails[i]);
        END IF;
        hashes[i] := v_prev;
    END LOOP;

    IF n = 1 THEN  -- the common case; a VALUES row is cheaper than unnest()
        INSERT INTO case_events (global_position, stream_id, version, event_id, type,
                                 schema_version, data, metadata, recorded_at, prev_hash, hash)
        VALUES (first_position, p_stream_id, first_version, p_event_ids[1], p_types[1],
                p_schema_versions[1], p_data[1], p_metadata[1], recorded_ats[1], first_prev_hash,
                hashes[1]);
    ELSE
        INSERT INTO case_events (global_position, stream_id, version, event_id, type,
                                 schema_version, data, metadata, recorded_at, prev_hash, hash)
        SELECT first_position + x.k - 1, p_stream_id, v_actual + x.k::integer, x.event_id, x.type,
               x.schema_version, x.data, x.metadata, x.recorded_at,
               coalesce(hashes[x.k - 1], first_prev_hash), x.hash
          FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata, recorded_ats,
                      hashes)
               WITH ORDINALITY AS x(event_id, type, schema_version, data, metadata, recorded_at,
                                    hash, k);
    END IF;

    -- one channel per schema, so that stores sharing a database never wake each other
    PERFORM pg_notify('case_events.' || current_schema(), (first_position + n - 1)::text);
END
$$;

-- The recorded batch if these event ids were appended, as this very batch in this order, to
-- this stream; no row if none of them was recorded; RM002 if only some or differently.
-- Dynamic SQL: planned afresh each time (a cached generic plan made while the table was
-- small could scan it whole); this path runs only for retries and conflicts.
CREATE FUNCTION case_events_recorded_batch(
    p_stream_id       text,
    p_event_ids       uuid[],
    p_types           text[],
    p_schema_versions integer[],
    p_data            jsonb[],
    p_metadata        jsonb[],
    p_recorded_at     timestamptz[],
    OUT first_position  bigint,
    OUT first_version   integer,
    OUT recorded_ats    timestamptz[],
    OUT first_prev_hash bytea,
    OUT hashes          bytea[]
)
LANGUAGE plpgsql AS $$
DECLARE
    v_found    integer;
    v_matching integer;
    v_offsets  integer;
BEGIN
    EXECUTE $q$
        SELECT count(*),
               count(*) FILTER (WHERE e.stream_id = $1 AND e.type = x.type
                                  AND e.schema_version = x.schema_version
                                  AND e.data = x.data AND e.metadata = x.metadata
                                  AND (x.recorded_at IS NULL OR e.recorded_at = x.recorded_at)),
               count(DISTINCT e.version - x.k),
               min(e.global_position), min(e.version),
               array_agg(e.recorded_at ORDER BY x.k),
               (array_agg(e.prev_hash ORDER BY x.k))[1],
               array_agg(e.hash ORDER BY x.k)
          FROM unnest($2, $3, $4, $5, $6, $7)
               WITH ORDINALITY AS x(event_id, type, schema_version, data, metadata, recorded_at, k)
          JOIN case_events e ON e.event_id = x.event_id
    $q$
    INTO v_found, v_matching, v_offsets,
         first_position, first_version, recorded_ats, first_prev_hash, hashes
    USING p_stream_id, p_event_ids, p_types, p_schema_versions, p_data, p_metadata, p_recorded_at;
    IF v_found = 0 THEN
        first_position := NULL;
        RETURN;
    END IF;
    IF v_found <> cardinality(p_event_ids) OR v_matching <> v_found OR v_offsets <> 1 THEN
        RAISE EXCEPTION 'event ids already recorded (% of %), but not as this batch on stream %',
            v_found, cardinality(p_event_ids), p_stream_id
            USING ERRCODE = 'RM002';
    END IF;
END
$$;
