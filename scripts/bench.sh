#!/usr/bin/env bash
# The benchmark suite: builds the release binary, starts a durable throwaway PostgreSQL
# (fsync on, as in production), runs `tongban bench` on SQLite and PostgreSQL, and
# writes docs/PERFORMANCE.md. Extra arguments go to `tongban bench`, e.g. --sizes s,m,l.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p tongban
# The report names the source it measured: the tree just built ("-dirty" with changes
# not committed, the last run's report aside).
if source=$(git rev-parse --short HEAD 2>/dev/null); then
  git diff --quiet HEAD -- . ':!docs/PERFORMANCE.md' || source="$source-dirty"
  export TONGBAN_BENCH_SOURCE="$source"
fi
export TONGBAN_PG_DURABLE=1
exec scripts/with-postgres.sh bash -c 'target/release/tongban bench --postgres-url "$TONGBAN_TEST_POSTGRES_URL" "$@"' bench "$@"
