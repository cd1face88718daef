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

-- Appends a batch to one stream in one transaction and one round trip.
-- p_heads/p_tails are the canonical JSON of each event around its recorded_at string (computed
-- by the client, readmit/db/canonical.py); the hash chain is completed here so that the
-- database's own clock can be used for recorded_at.
-- Errors: RM001 = stale expected version (DETAIL = actual version),
--         RM002 = event ids already recorded with different content or only partly.
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
    p_tails            bytea[]
) RETURNS SETOF case_events
LANGUAGE plpgsql AS $$
DECLARE
    n           integer := cardinality(p_event_ids);
    v_found     integer;
    v_matching  integer;
    v_offsets   integer;
    v_actual    integer;
    v_prev      bytea;
    v_position  bigint;
    v_now       timestamptz;
    v_at        timestamptz[] := '{}';
    v_prevs     bytea[] := '{}';
    v_hashes    bytea[] := '{}';
BEGIN
    IF n IS NULL OR n = 0 THEN
        RETURN;
    END IF;

    -- One writer at a time from here to COMMIT: positions are then assigned in commit order,
    -- so max + 1 is gap-free and no reader ever sees position p + 1 before p.
    -- (A new statement after the lock = a fresh snapshot that sees the previous writer's rows.)
    PERFORM pg_advisory_xact_lock(1919250276, 'case_events'::regclass::oid::integer);

    SELECT count(*) INTO v_found FROM case_events WHERE event_id = ANY (p_event_ids);
    IF v_found > 0 THEN
        -- A retry is recognised only if it is the very same batch, in the same order.
        SELECT count(*), count(DISTINCT e.version - x.k)
          INTO v_matching, v_offsets
          FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata, p_recorded_at)
               WITH ORDINALITY AS x(event_id, type, schema_version, data, metadata, recorded_at, k)
          JOIN case_events e ON e.event_id = x.event_id
         WHERE e.stream_id = p_stream_id
           AND e.type = x.type
           AND e.schema_version = x.schema_version
           AND e.data = x.data
           AND e.metadata = x.metadata
           AND (x.recorded_at IS NULL OR e.recorded_at = x.recorded_at);
        IF v_matching = n AND v_offsets = 1 THEN
            RETURN QUERY SELECT * FROM case_events
                          WHERE event_id = ANY (p_event_ids) ORDER BY version;
            RETURN;
        END IF;
        RAISE EXCEPTION 'event ids already recorded (% of %), but not as this same batch on stream %',
            v_found, n, p_stream_id
            USING ERRCODE = 'RM002';
    END IF;

    SELECT version, hash INTO v_actual, v_prev
      FROM case_events WHERE stream_id = p_stream_id ORDER BY version DESC LIMIT 1;
    v_actual := coalesce(v_actual, 0);
    IF v_actual <> p_expected_version THEN
        RAISE EXCEPTION 'stream % is at version %, expected %',
            p_stream_id, v_actual, p_expected_version
            USING ERRCODE = 'RM001', DETAIL = v_actual::text;
    END IF;
    v_prev := coalesce(v_prev, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);

    SELECT coalesce(max(global_position), 0) INTO v_position FROM case_events;
    v_now := clock_timestamp();
    FOR i IN 1 .. n LOOP
        v_at[i] := coalesce(p_recorded_at[i], v_now);
        v_prevs[i] := v_prev;
        v_prev := sha256(v_prev || p_heads[i]
            || convert_to(to_char(v_at[i] AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8')
            || p_tails[i]);
        v_hashes[i] := v_prev;
    END LOOP;

    RETURN QUERY
    INSERT INTO case_events (global_position, stream_id, version, event_id, type, schema_version,
                             data, metadata, recorded_at, prev_hash, hash)
    SELECT v_position + x.k, p_stream_id, p_expected_version + x.k::integer, x.event_id, x.type,
           x.schema_version, x.data, x.metadata, x.recorded_at, x.prev_hash, x.hash
      FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata, v_at, v_prevs, v_hashes)
           WITH ORDINALITY AS x(event_id, type, schema_version, data, metadata, recorded_at,
                                prev_hash, hash, k)
    RETURNING *;

    PERFORM pg_notify('case_events', (v_position + n)::text);
END
$$;
