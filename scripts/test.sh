#!/usr/bin/env bash
# Every test of the workspace: the domain's unit and property tests, the store contract
# and the HTTP suite — each store and HTTP test on SQLite and on a real PostgreSQL 15
# started for the run (installed from Debian if missing) and stopped afterwards.
#
#   scripts/test.sh            # everything
#   scripts/test.sh -p tongban # extra arguments go to cargo test
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL tests fail instead of skipping when the server is missing.
export TONGBAN_REQUIRE_POSTGRES=1
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

exec scripts/with-postgres.sh cargo test --workspace --locked "$@"
