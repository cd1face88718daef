#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# Three login roles with their own passwords, none a superuser:
#   readmit      owns the `readmit` database and everything in it; only `readmit db migrate`
#                (the `migrate` service) logs in as it;
#   readmit_app  the runtime role the API and workers log in as: it owns nothing and holds only
#                what each migration grants it (adapters/db/privileges.py), so it cannot rewrite
#                case_events or disclosure_log, nor touch their triggers and functions;
#   temporal     may create databases: temporal-sql-tool creates `temporal` and
#                `temporal_visibility`.
# Only readmit_app and readmit may connect to `readmit`. Changing a password later:
# ALTER ROLE ... PASSWORD ..., then update .env to match (docs/operations.md).
set -eu
: "${READMIT_DB_PASSWORD:?}" "${READMIT_DB_RUNTIME_PASSWORD:?}" "${TEMPORAL_DB_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v readmit_password="$READMIT_DB_PASSWORD" \
    -v runtime_password="$READMIT_DB_RUNTIME_PASSWORD" \
    -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE readmit LOGIN PASSWORD :'readmit_password';
CREATE ROLE readmit_app LOGIN PASSWORD :'runtime_password';
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE DATABASE readmit OWNER readmit;
REVOKE ALL ON DATABASE readmit FROM PUBLIC;
GRANT CONNECT ON DATABASE readmit TO readmit_app;
SQL
