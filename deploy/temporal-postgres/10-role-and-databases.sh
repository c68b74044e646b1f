#!/bin/sh
# First start of the temporal-postgres volume only (docker-entrypoint-initdb.d): Temporal's own
# PostgreSQL server, apart from the app's (deploy/postgres/). One login role that owns Temporal's
# two databases, so the Temporal server does not run as the superuser:
#   temporal   owns `temporal` (persistence: histories, shards, timers, task queues) and
#              `temporal_visibility` (what the Web UI lists and filters)
# The password comes from the environment and is never written to this repository. Changing it
# later needs `ALTER ROLE ... PASSWORD` by hand: this script does not run again on a filled volume.
#
# The entrypoint may source this file instead of running it, so it changes no shell options and
# fails through `exit` alone.

: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is required}"

# A psql variable (:'name') quotes the password as an SQL literal, whatever characters it holds.
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL' || exit 1
SELECT format('CREATE ROLE temporal LOGIN PASSWORD %L', :'temporal_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal') \gexec

SELECT 'CREATE DATABASE temporal OWNER temporal'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal') \gexec
SELECT 'CREATE DATABASE temporal_visibility OWNER temporal'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal_visibility') \gexec

-- Nobody else may connect to these databases (PUBLIC has CONNECT by default).
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;
SQL
