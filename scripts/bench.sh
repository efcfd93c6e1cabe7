#!/usr/bin/env bash
# The benchmark suite: builds the release binary, starts a durable throwaway PostgreSQL
# (fsync on, as in production), runs `tongban bench` on SQLite and PostgreSQL, and
# writes docs/PERFORMANCE.md. Extra arguments go to `tongban bench`, e.g. --sizes s,m,l.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p tongban
export TONGBAN_PG_DURABLE=1
exec scripts/with-postgres.sh bash -c 'target/release/tongban bench --postgres-url "$TONGBAN_TEST_POSTGRES_URL" "$@"' bench "$@"
