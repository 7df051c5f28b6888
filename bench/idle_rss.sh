#!/usr/bin/env bash
# Idle memory of one `opsbot serve` replica on each store: the SQLite file and
# a DynamoDB table (ministack). Each starts with the same benchmark config
# (bench/local_bot.sh: HTTP transport, a local Slack sink, SNS notifications
# on), idles for IDLE seconds (default 10: its start-up sweeps and a few
# turns of the idle loops have run) and is read from /proc/<pid>/status.
# Target: ≤ 10 MB per replica (docs/benchmarks.md, "Idle memory").
#
# Usage: bench/idle_rss.sh [BINARY]   (default target/release/opsbot; needs the
# start-up layout to mean anything, so a release build: see bench/layout/)
# Needs python3, curl and ministack in $OPSBOT_VENV (scripts/emulators.sh).
# Everything binds 127.0.0.1; every process started is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${1:-$ROOT/target/release/opsbot}"
IDLE="${IDLE:-10}"
VENV="${OPSBOT_VENV:-$ROOT/.venv}"
[[ -x "$BIN" ]] || { echo "$BIN not found: cargo build --release --locked --bin opsbot" >&2; exit 2; }
[[ -x "$VENV/bin/ministack" ]] || { echo "no ministack in $VENV: run scripts/emulators.sh" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/opsbot-idle.XXXXXX")"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

source bench/local_bot.sh
local_bot "$WORK" opsbot tests/fixtures/notifications/sns-envelope-alarm.json C0IDLE
MPORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BIND_HOST=127.0.0.1 GATEWAY_PORT="$MPORT" IOT_MTLS_ENABLED=0 "$VENV/bin/ministack" >"$WORK/ministack.log" 2>&1 & PIDS+=($!)
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$MPORT/_ministack/health" >/dev/null && break; sleep 0.1; done
sed "s|^store: .*|store: { dynamodb: { table: idle }, retention: { inbox: 3650d } }|" "$CONFIG" >"$WORK/dynamodb.yaml"

ENV=(PATH="$PATH" SLACK_BOT_TOKEN=xoxb-idle SLACK_SIGNING_SECRET=idle RUST_LOG=warn
  AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=idle AWS_SECRET_ACCESS_KEY=idle
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$MPORT")
env -i "${ENV[@]}" "$BIN" store init --config "$WORK/dynamodb.yaml" >/dev/null

kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }
mb() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }'; }

echo "| store | idle RSS (anon / file) |"
echo "|---|---|"
for store in sqlite dynamodb; do
  config="$CONFIG"; [[ "$store" == dynamodb ]] && config="$WORK/dynamodb.yaml"
  env -i "${ENV[@]}" "$BIN" --config "$config" serve --transport http --listen "127.0.0.1:$PORT" \
    >"$WORK/$store.log" 2>&1 & pid=$!
  PIDS+=("$pid")
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.05; done
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$WORK/$store.log" >&2; echo "$store: not ready" >&2; exit 1; }
  sleep "$IDLE"
  echo "| $store | $(mb "$(kb VmRSS "$pid")") MB ($(mb "$(kb RssAnon "$pid")") / $(mb "$(kb RssFile "$pid")")) |"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
done
