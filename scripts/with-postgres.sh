#!/usr/bin/env bash
# Run a command beside a throwaway PostgreSQL 15 cluster, and stop it afterwards
# (also when the command fails). Exports TONGBAN_TEST_POSTGRES_URL for the tests.
#
#   scripts/with-postgres.sh cargo test
#
# Installs Debian's postgresql if it is missing (needs root or sudo).
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/initdb" ]; then
  echo "with-postgres: installing postgresql" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port=${TONGBAN_PG_PORT:-$((55000 + RANDOM % 5000))}
dir=$(mktemp -d "${TONGBAN_PG_DIR:-/tmp}/tongban-pg.XXXXXX")
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"

stop() {
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT INT TERM

as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
# Tests need no durability (and run faster without it); benchmarks (TONGBAN_PG_DURABLE=1)
# measure a server configured as in production: fsync, synchronous commit and full-page
# writes on. wal_init_zero=off: a fresh cluster has no WAL segments to recycle, and
# zero-filling a new 16 MB segment inside a commit (one every second or so under the
# lifecycle load) stalls every commit behind it; a server that has run a while recycles
# its segments instead. Durability is the same either way.
if [ "${TONGBAN_PG_DURABLE:-0}" = 1 ]; then
  settings="-c shared_buffers=512MB -c max_wal_size=8GB -c checkpoint_timeout=30min -c wal_init_zero=off"
else
  settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 $settings" \
  start >/dev/null

export TONGBAN_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL on port $port ($dir)" >&2
set +e
"$@"
status=$?
set -e
exit $status
