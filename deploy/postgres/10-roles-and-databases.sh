#!/bin/sh
# First start of the PostgreSQL volume only (docker-entrypoint-initdb.d): one login role and
# database per tenant of this server, so neither the app nor Temporal runs as the superuser.
#   homeplans  owns the read model (DATABASE_URL; migrations run as this role)
#   temporal   owns Temporal's two databases (persistence and visibility)
# The passwords come from the environment and are never written to this repository. Changing one
# later needs `ALTER ROLE ... PASSWORD` by hand: this script does not run again on a filled volume.
#
# The entrypoint may source this file instead of running it, so it changes no shell options and
# fails through `exit` alone.

: "${APP_DB_PASSWORD:?APP_DB_PASSWORD is required}"
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is required}"

# psql variables (:'name') quote the passwords as SQL literals, whatever characters they hold.
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v app_password="$APP_DB_PASSWORD" \
    -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL' || exit 1
SELECT format('CREATE ROLE homeplans LOGIN PASSWORD %L', :'app_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'homeplans') \gexec
SELECT format('CREATE ROLE temporal LOGIN PASSWORD %L', :'temporal_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal') \gexec

SELECT 'CREATE DATABASE homeplans OWNER homeplans'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'homeplans') \gexec
SELECT 'CREATE DATABASE temporal OWNER temporal'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal') \gexec
SELECT 'CREATE DATABASE temporal_visibility OWNER temporal'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal_visibility') \gexec

-- Nobody else may connect to these databases (PUBLIC has CONNECT by default).
REVOKE ALL ON DATABASE homeplans FROM PUBLIC;
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;
SQL
