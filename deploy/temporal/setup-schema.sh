#!/bin/sh
# One-shot job (temporalio/admin-tools image): bring Temporal's two PostgreSQL databases to the
# schema of this server version. Safe to re-run: both steps skip what is already applied.
# The databases and their owner role are made by deploy/temporal-postgres/ on the first start of
# Temporal's own PostgreSQL server; on an external one, create them (owned by POSTGRES_USER) first.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"  # SQL_PASSWORD: read by the tool
DB_PORT="${DB_PORT:-5432}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
SCHEMA_DIR="${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

sql_tool() {
    temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
    db="${pair%%:*}"
    schema="${pair#*:}"
    echo "schema of database $db ($schema)"
    sql_tool --db "$db" setup-schema -v 0.0
    sql_tool --db "$db" update-schema -d "$SCHEMA_DIR/$schema/versioned"
done
echo "Temporal schemas are up to date"
