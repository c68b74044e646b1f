#!/bin/sh
# First start of the PostgreSQL volume only (docker-entrypoint-initdb.d): the login role and the
# database of the app, so it does not run as the superuser:
#   homeplans  owns the read model (DATABASE_URL; migrations run as this role)
# Temporal has a PostgreSQL server of its own (deploy/temporal-postgres/). The password comes from
# the environment and is never written to this repository. Changing it later needs
# `ALTER ROLE ... PASSWORD` by hand: this script does not run again on a filled volume.
#
# The entrypoint may source this file instead of running it, so it changes no shell options and
# fails through `exit` alone.

: "${APP_DB_PASSWORD:?APP_DB_PASSWORD is required}"

# A psql variable (:'name') quotes the password as an SQL literal, whatever characters it holds.
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v app_password="$APP_DB_PASSWORD" <<'SQL' || exit 1
SELECT format('CREATE ROLE homeplans LOGIN PASSWORD %L', :'app_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'homeplans') \gexec

SELECT 'CREATE DATABASE homeplans OWNER homeplans'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'homeplans') \gexec

-- Nobody else may connect to this database (PUBLIC has CONNECT by default).
REVOKE ALL ON DATABASE homeplans FROM PUBLIC;
SQL
