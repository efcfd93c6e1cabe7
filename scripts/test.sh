#!/usr/bin/env bash
# Every test of the workspace: the domain's unit and property tests, the store contract,
# the HTTP suite — each store and HTTP test on SQLite and on a real PostgreSQL 15
# started for the run (installed from Debian if missing) and stopped afterwards — and
# the browser suite in a real headless Chromium (Debian's chromium and chromium-driver,
# with a CJK font, installed if missing). Screenshots and printed PDFs land in
# target/browser-artifacts/.
#
#   scripts/test.sh            # everything
#   scripts/test.sh -p tongban # extra arguments go to cargo test
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "CJK"; then
  echo "test: installing chromium, chromium-driver and fonts-noto-cjk" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
fi

# PostgreSQL and browser tests fail instead of skipping when their parts are missing.
export TONGBAN_REQUIRE_POSTGRES=1
export TONGBAN_REQUIRE_BROWSER=1
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# No incremental caches: a fresh clone builds everything once, and the caches would
# about double what the build leaves on a small CI disk (1.8 GB without them).
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

exec scripts/with-postgres.sh cargo test --workspace --locked "$@"
