#!/usr/bin/env bash
# Starts the release opsbot for the ingest bench with a fresh store, and becomes it
# (exec), so that the peers harness's PID is opsbot's own (for RSS and CPU).
# Usage: bench/sns_ingest/serve.sh WORKDIR PORT   (WORKDIR holds ingest.yaml, from sns_ingest.sh)
set -euo pipefail
work="$1" port="$2"
rm -f "$work/ingest.db" "$work/ingest.db-wal" "$work/ingest.db-shm"
export SLACK_BOT_TOKEN=xoxb-bench SLACK_SIGNING_SECRET=bench-signing-secret
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
exec "${OPSBOT_BIN:-./target/release/opsbot}" serve --transport http --listen "127.0.0.1:$port" --config "$work/ingest.yaml"
