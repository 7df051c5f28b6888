#!/usr/bin/env bash
# Writes bench/layout/startup.order: the functions of the release binary that
# `opsbot serve` runs while starting and idling, then those a first slash
# command and a first SNS alarm notification add. build.rs links the binary
# with that order (lld --symbol-ordering-file), so the code a running bot keeps
# touching sits together instead of across the whole .text, and fewer pages
# become resident (docs/benchmarks.md, "Idle memory").
#
# Run it again after changing dependencies or the toolchain (symbol names carry
# hashes of both); then rebuild the release binary. A stale file is harmless:
# names no longer present are skipped, and only memory suffers.
#
# Usage: bench/layout/record.sh        (needs valgrind, python3, curl)
# Uses target/release/opsbot (builds it when missing); everything binds
# 127.0.0.1, and every process started is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
command -v valgrind >/dev/null || { echo "valgrind not found: apt-get install valgrind" >&2; exit 2; }
[[ -x target/release/opsbot ]] || cargo build --release --locked --bin opsbot
BIN="$ROOT/target/release/opsbot"
[[ -n "$(nm "$BIN" 2>/dev/null | head -c1)" ]] ||
  { echo "$BIN has no symbols: the release profile must keep them (strip = \"debuginfo\")" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/opsbot-layout.XXXXXX")"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

PAYLOAD="tests/fixtures/notifications/sns-envelope-alarm.json"
source bench/local_bot.sh
local_bot "$WORK" opsbot "$PAYLOAD" C0LAYOUT
BASE="http://127.0.0.1:$PORT"
SECRET=layout-signing-secret

log "starting opsbot serve under callgrind (slow: about a minute to ready)"
env -i PATH="$PATH" SLACK_BOT_TOKEN=xoxb-layout SLACK_SIGNING_SECRET="$SECRET" RUST_LOG=warn \
  AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=layout AWS_SECRET_ACCESS_KEY=layout \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  valgrind --tool=callgrind --demangle=no --compress-strings=no --compress-pos=no \
  --callgrind-out-file="$WORK/callgrind.out" \
  "$BIN" --config "$CONFIG" serve --transport http --listen "127.0.0.1:$PORT" \
  >"$WORK/opsbot.log" 2>&1 & VG=$!
PIDS+=("$VG")
for _ in $(seq 1200); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$BASE/healthz" >/dev/null || { cat "$WORK/opsbot.log" >&2; echo "opsbot did not get ready" >&2; exit 1; }
sleep 5 # the idle loops (outbox, sweeps, pollers) take a turn or two
callgrind_control --dump=ready "$VG" >/dev/null
log "ready and idle: recorded; now a slash command and an alarm notification"

BODY="token=x&team_id=T0LAYOUT&channel_id=C0LAYOUT&channel_name=layout&user_id=U0LAYOUT&user_name=layout&command=%2Fops&text=help&response_url=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$SINK/respond/1")&trigger_id=layout.1"
TS="$(date +%s)"
SIG="v0=$(printf 'v0:%s:%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)"
curl -sf -o /dev/null "$BASE/slack/commands" -H 'content-type: application/x-www-form-urlencoded' \
  -H "x-slack-request-timestamp: $TS" -H "x-slack-signature: $SIG" --data-raw "$BODY"
curl -sf -o /dev/null "$BASE/sns" -H 'content-type: text/plain; charset=UTF-8' \
  -H 'x-amz-sns-message-type: Notification' --data-binary "@$PAYLOAD"
for _ in $(seq 600); do
  [[ "$(curl -sf "$SINK/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["writes"])')" -ge 2 ]] && break
  sleep 0.1
done
sleep 2
kill -TERM "$VG"
wait "$VG" || true

# A replica on the DynamoDB store runs other code while starting and idling
# (the table check, the store's idle reads): record it too, after the rest,
# on a ministack table ($OPSBOT_VENV, as the tests use).
VENV="${OPSBOT_VENV:-$ROOT/.venv}"
if [[ -x "$VENV/bin/ministack" ]]; then
  MPORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  BIND_HOST=127.0.0.1 GATEWAY_PORT="$MPORT" IOT_MTLS_ENABLED=0 "$VENV/bin/ministack" >"$WORK/ministack.log" 2>&1 & PIDS+=($!)
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$MPORT/_ministack/health" >/dev/null && break; sleep 0.1; done
  sed "s|^store: .*|store: { dynamodb: { table: layout }, retention: { inbox: 3650d } }|" "$CONFIG" >"$WORK/dynamodb.yaml"
  DDB_ENV=(PATH="$PATH" SLACK_BOT_TOKEN=xoxb-layout SLACK_SIGNING_SECRET="$SECRET" RUST_LOG=warn
    AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=layout AWS_SECRET_ACCESS_KEY=layout
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$MPORT")
  env -i "${DDB_ENV[@]}" "$BIN" store init --config "$WORK/dynamodb.yaml" >/dev/null
  log "again on the DynamoDB store, under callgrind"
  env -i "${DDB_ENV[@]}" valgrind --tool=callgrind --demangle=no --compress-strings=no --compress-pos=no \
    --callgrind-out-file="$WORK/callgrind.out.dynamodb" \
    "$BIN" --config "$WORK/dynamodb.yaml" serve --transport http --listen "127.0.0.1:$PORT" \
    >"$WORK/opsbot-dynamodb.log" 2>&1 & VG=$!
  PIDS+=("$VG")
  for _ in $(seq 1200); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "$BASE/healthz" >/dev/null || { cat "$WORK/opsbot-dynamodb.log" >&2; echo "opsbot (DynamoDB) did not get ready" >&2; exit 1; }
  sleep 5
  kill -TERM "$VG"
  wait "$VG" || true
else
  log "no ministack in $VENV (scripts/emulators.sh installs it): the DynamoDB store's start-up is not recorded"
fi

# Each dump lists, per object (ob=), the functions (fn=) that ran; keep the
# binary's own, in four groups: what start-up and idle run on both stores,
# then what only DynamoDB's adds, then what only SQLite's adds, then what the
# requests added. Idle code comes before request code, and each store's
# idle code sits in one compact range, so that an idle replica touches few
# pages: the kernel maps 64 KiB around every fault, and with SQLite's own
# idle code (rusqlite, the SQLite C library) between the shared functions a
# DynamoDB replica paged in most of it (0.2-0.3 MB).
python3 - "$BIN" "$WORK"/callgrind.out* >bench/layout/startup.order <<'PY'
import sys
import os
import re
binary, dumps = sys.argv[1], sorted(sys.argv[2:], key=os.path.getmtime)

def functions(dump):
    ob, names = None, []
    for line in open(dump, errors="replace"):
        if line.startswith("ob="):
            ob = line[3:].strip()
        elif line.startswith("fn=") and ob == binary:
            # callgrind marks recursion levels as name'2; "0x..." and
            # "(below main)" are not symbols
            name = re.sub(r"'[0-9]+$", "", line[3:].strip())
            if not name.startswith(("0x", "(")):
                names.append(name)
    return names

# the first dump by time is start-up and idle on SQLite (--dump=ready)
sqlite = functions(dumps[0])
dynamodb = [f for d in dumps if d.endswith(".dynamodb") for f in functions(d)]
requests = [f for d in dumps[1:] if not d.endswith(".dynamodb") for f in functions(d)]
in_sqlite, in_dynamodb = set(sqlite), set(dynamodb)
groups = [
    [f for f in sqlite if f in in_dynamodb],
    [f for f in dynamodb if f not in in_sqlite],
    [f for f in sqlite if f not in in_dynamodb],
    requests,
]
seen, order = set(), []
for name in (f for group in groups for f in group):
    if name not in seen:
        seen.add(name)
        order.append(name)
print("\n".join(order))
PY
log "wrote bench/layout/startup.order: $(wc -l <bench/layout/startup.order) functions; rebuild with cargo build --release"
