#!/usr/bin/env bash
# scripts/fuzz.sh — the long fuzz run (docs/fuzzing.md).
#
#   scripts/fuzz.sh                 every target for 600 s, all at once
#   scripts/fuzz.sh 60              every target for 60 s
#   scripts/fuzz.sh 600 policy      one target (a test-name filter)
#   OPSBOT_FUZZ_SEED=… scripts/fuzz.sh 600 policy   replay a run's mutations
#
# `cargo test` runs the same targets for 3 s each. An input that panics or
# breaks an invariant is written to tests/fuzz/corpus/<target>/crash-<hash>;
# commit it with the fix and every later run replays it first.
set -euo pipefail

secs="${1:-600}"
filter="fuzz::${2:-}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

export AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
       AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
       AWS_SHARED_CREDENTIALS_FILE=/dev/null
export OPSBOT_FUZZ_SECS="$secs"

log="target/fuzz-$(date -u +%Y%m%dT%H%M%SZ).log"
mkdir -p target
cargo test -p opsbot --test tests --no-run
echo "fuzzing for ${secs} s per target; full output in ${log}" >&2
# Every target in its own test thread, all at the same time.
cargo test -p opsbot --test tests "$filter" -- --test-threads=16 --nocapture >"$log" 2>&1 || status=$?
grep -E '^(fuzz |test result|thread .* panicked|fuzz target)' "$log" || true
exit "${status:-0}"
