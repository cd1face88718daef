-- Appends no longer NOTIFY inside their transaction, and one event has a function of its own.
--
-- A NOTIFY takes PostgreSQL's database-wide notify lock from pre-commit to the end of commit
-- (async.c, PostgreSQL <= 17) and wakes every listening backend of the database, whatever its
-- channel: on every append. The store now announces positions itself, after commit, coalesced
-- (readmit/db/notify.py `PositionAnnouncer`); listeners also poll, so a lost announcement
-- only delays them. Ordering, idempotency, the hash chain and the error codes are unchanged:
-- see 0001_event_store.sql and readmit/db/eventstore.py.

CREATE OR REPLACE FUNCTION append_case_events(
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

    -- One appender at a time from here to the end of COMMIT (see 0001).
    PERFORM pg_advisory_xact_lock(1919250276, 'case_events'::regclass::oid::integer);

    SELECT coalesce(head.version, 0), head.hash, last.position
      INTO v_actual, v_prev, first_position
      FROM (SELECT coalesce(max(e.global_position), 0) AS position FROM case_events e) last
      LEFT JOIN (SELECT e.version, e.hash FROM case_events e
                  WHERE e.stream_id = p_stream_id ORDER BY e.version DESC LIMIT 1) head ON true;
    IF v_actual <> p_expected_version THEN
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

    INSERT INTO case_events (global_position, stream_id, version, event_id, type,
                             schema_version, data, metadata, recorded_at, prev_hash, hash)
    SELECT first_position + x.k - 1, p_stream_id, v_actual + x.k::integer, x.event_id, x.type,
           x.schema_version, x.data, x.metadata, x.recorded_at,
           coalesce(hashes[x.k - 1], first_prev_hash), x.hash
      FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata, recorded_ats,
                  hashes)
           WITH ORDINALITY AS x(event_id, type, schema_version, data, metadata, recorded_at,
                                hash, k);
END
$$;

-- One event, the usual case: the same steps as append_case_events with scalars instead of
-- arrays (cheaper to send, to bind and to run). Same lock, same errors; a retry whose stream
-- has moved on is answered by case_events_recorded_batch, as for a batch of one.
CREATE FUNCTION append_case_event(
    p_stream_id        text,
    p_expected_version integer,
    p_event_id         uuid,
    p_type             text,
    p_schema_version   integer,
    p_data             jsonb,
    p_metadata         jsonb,
    p_recorded_at      timestamptz,
    p_head             bytea,
    p_tail             bytea,
    OUT out_position    bigint,
    OUT out_version     integer,
    OUT out_recorded_at timestamptz,
    OUT out_prev_hash   bytea,
    OUT out_hash        bytea
)
LANGUAGE plpgsql AS $$
DECLARE
    v_actual integer;
BEGIN
    PERFORM pg_advisory_xact_lock(1919250276, 'case_events'::regclass::oid::integer);

    SELECT coalesce(head.version, 0),
           coalesce(head.hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
           last.position + 1
      INTO v_actual, out_prev_hash, out_position
      FROM (SELECT coalesce(max(e.global_position), 0) AS position FROM case_events e) last
      LEFT JOIN (SELECT e.version, e.hash FROM case_events e
                  WHERE e.stream_id = p_stream_id ORDER BY e.version DESC LIMIT 1) head ON true;
    IF v_actual <> p_expected_version THEN
        SELECT r.first_position, r.first_version, r.recorded_ats[1], r.first_prev_hash,
               r.hashes[1]
          INTO out_position, out_version, out_recorded_at, out_prev_hash, out_hash
          FROM case_events_recorded_batch(p_stream_id, ARRAY[p_event_id], ARRAY[p_type],
                                          ARRAY[p_schema_version], ARRAY[p_data],
                                          ARRAY[p_metadata], ARRAY[p_recorded_at]) r;
        IF out_position IS NULL THEN
            RAISE EXCEPTION 'stream % is at version %, expected %',
                p_stream_id, v_actual, p_expected_version
                USING ERRCODE = 'RM001', DETAIL = v_actual::text;
        END IF;
        RETURN;
    END IF;

    out_version := v_actual + 1;
    out_recorded_at := coalesce(p_recorded_at, clock_timestamp());  -- the clock after the lock
    out_hash := sha256(out_prev_hash || p_head
        || convert_to(to_char(out_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                      'UTF8')
        || p_tail);
    INSERT INTO case_events (global_position, stream_id, version, event_id, type,
                             schema_version, data, metadata, recorded_at, prev_hash, hash)
    VALUES (out_position, p_stream_id, out_version, p_event_id, p_type, p_schema_version,
            p_data, p_metadata, out_recorded_at, out_prev_hash, out_hash);
END
$$;
