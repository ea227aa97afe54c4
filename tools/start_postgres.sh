#!/usr/bin/env bash
# Start Debian's PostgreSQL 15 cluster on 127.0.0.1 (if it is not running), make sure the
# test role and database exist, and print the gradebook URL on stdout (last line).
# Idempotent: safe to run again. Installs the `postgresql` package with apt-get if missing.
# Needs root (or passwordless sudo). Override the names with PGTEST_USER / PGTEST_PASSWORD /
# PGTEST_DB / PGTEST_PORT.
set -euo pipefail

PG_VERSION=15
CLUSTER=main
PORT="${PGTEST_PORT:-5432}"
ROLE="${PGTEST_USER:-course_grader}"
PASSWORD="${PGTEST_PASSWORD:-course_grader}"
DB="${PGTEST_DB:-course_gradebook_test}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo -n"
fi

log() { echo "start_postgres: $*" >&2; }

if [ ! -x "/usr/lib/postgresql/${PG_VERSION}/bin/postgres" ]; then
    log "installing postgresql with apt-get"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
        || { $SUDO apt-get update -q >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
fi

if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" -v c="$CLUSTER" '$1==v && $2==c {found=1} END {exit !found}'; then
    log "creating cluster ${PG_VERSION}/${CLUSTER}"
    $SUDO pg_createcluster "$PG_VERSION" "$CLUSTER" --port "$PORT" >&2
fi

status="$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $4}')"
if [ "$status" != "online" ]; then
    log "starting cluster ${PG_VERSION}/${CLUSTER}"
    $SUDO pg_ctlcluster "$PG_VERSION" "$CLUSTER" start >&2 || $SUDO service postgresql start >&2
fi

# wait until it accepts connections on 127.0.0.1
for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$PORT"; then break; fi
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || { log "PostgreSQL is not accepting connections on 127.0.0.1:${PORT}"; exit 1; }

as_postgres() { $SUDO runuser -u postgres -- "$@" 2>/dev/null || su postgres -c "$(printf '%q ' "$@")"; }
psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres -tA "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}'")" != "1" ]; then
    log "creating role ${ROLE}"
    psql_admin -c "CREATE ROLE \"${ROLE}\" LOGIN PASSWORD '${PASSWORD}' CREATEDB"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '${DB}'")" != "1" ]; then
    log "creating database ${DB}"
    psql_admin -c "CREATE DATABASE \"${DB}\" OWNER \"${ROLE}\""
fi

echo "postgresql+psycopg2://${ROLE}:${PASSWORD}@127.0.0.1:${PORT}/${DB}"
