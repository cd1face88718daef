#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# Two login roles with their own passwords, neither a superuser:
#   readmit  owns the `readmit` database (event store, read models, outbox, directory);
#   temporal may create databases: temporal-sql-tool creates `temporal` and `temporal_visibility`.
# Changing a password later: ALTER ROLE ... PASSWORD ..., then update .env to match.
set -eu
: "${READMIT_DB_PASSWORD:?}" "${TEMPORAL_DB_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v readmit_password="$READMIT_DB_PASSWORD" -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE readmit LOGIN PASSWORD :'readmit_password';
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE DATABASE readmit OWNER readmit;
SQL
