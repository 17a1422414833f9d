#!/usr/bin/env bash
# Timing of unknown key ids against known ids with a wrong secret (issue 9): runs
# crates/ward-server/examples/timing.rs, which drives POST /v1/verify in process (SQLite in a
# temporary directory), alternating the two cases in the same run, and prints both medians and
# their ratio. Exits 1 when the `repeat` ratio is not within 10%. docs/benchmarks.md records runs.
#
# Settings (environment): ROUNDS=20000 WARMUP=2000 PROFILE=release
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
echo "== machine load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo run -q --profile "$PROFILE" -p ward-server --example timing
echo "== machine load after: $(cut -d' ' -f1-3 /proc/loadavg)"
