#!/usr/bin/env bash
# Start the Debian PostgreSQL cluster for the tests and make the test role and database.
# The tests reach it at the fixed DSN below (override with MYNA_PG_DSN); nothing is exported.
#   postgresql://myna:myna-test@127.0.0.1:5432/myna_test
# Idempotent: a running cluster, an existing role or database are left as they are.
# .ci/run calls every .ci/start-*.sh; stop it with: pg_ctlcluster <version> main stop
set -euo pipefail

ROLE=myna
PASSWORD=myna-test
DB=myna_test

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "PostgreSQL is not installed (Debian package postgresql; see .ci/system-packages.sh)" >&2
  exit 1
fi
read -r VERSION CLUSTER PORT STATUS _ < <(pg_lsclusters --no-header | head -1) || true
if [ -z "${VERSION:-}" ]; then
  VERSION=$(ls /usr/lib/postgresql | sort -V | tail -1)
  pg_createcluster "$VERSION" main
  read -r VERSION CLUSTER PORT STATUS _ < <(pg_lsclusters --no-header | head -1)
fi
if [ "$STATUS" != "online" ]; then
  pg_ctlcluster "$VERSION" "$CLUSTER" start
  echo "postgresql $VERSION/$CLUSTER started on port $PORT"
else
  echo "postgresql $VERSION/$CLUSTER already running on port $PORT"
fi

as_postgres() { if [ "$(id -un)" = postgres ]; then "$@"; else su postgres -c "$(printf '%q ' "$@")"; fi; }
psql_admin() { as_postgres psql -p "$PORT" -v ON_ERROR_STOP=1 -qtA "$@"; }

for _ in $(seq 1 50); do
  psql_admin -c "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.2
done
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE $DB OWNER $ROLE"
fi
echo "postgres ready: postgresql://$ROLE:***@127.0.0.1:$PORT/$DB"
