#!/usr/bin/env bash
# Webhook ingest of `POST /sns` on the release binary, under the load the peers were
# measured with (../shared/bench/peers: wrk, 2 threads, 20 connections, 10 s after a
# 2 s warm-up, the 2.5 KB SNS CloudWatch-alarm notification), in two variants:
#   1. same body: the peers harness itself (run.sh --extra-cmd), opsbot next to the peers
#      in the same run. wrk repeats one MessageId, so after the first request every
#      request is a dedup hit (one indexed INSERT OR IGNORE that inserts nothing).
#   2. unique MessageIds: the same wrk load with bench/sns_ingest/unique.lua, every
#      request a new notification: a new inbox row, committed to the WAL before the 200,
#      while the handler task drains the rows behind it. Checked afterwards: the inbox
#      holds exactly one row per 2xx answer.
# Usage: bench/sns_ingest.sh [--runs N] [--peers rustref,hubot,errbot] [--no-peers]
#   PEERS_DIR (default ../shared/bench/peers, else /work/shared/bench/peers).
# Needs wrk (the peers harness installs it with apt), python3, curl; builds
# target/release/opsbot if missing. Everything binds 127.0.0.1; every process started
# is stopped by its PID on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS=2 PEERS="rustref,hubot,errbot" DURATION=10 WARMUP=2 CONNS=20 THREADS=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --peers) PEERS="$2"; shift 2 ;;
    --no-peers) PEERS=""; shift ;;
    *) echo "sns_ingest.sh: unknown option $1 (see the head of this file)" >&2; exit 2 ;;
  esac
done
PEERS_DIR="${PEERS_DIR:-$ROOT/../shared/bench/peers}"
[[ -d "$PEERS_DIR" ]] || PEERS_DIR=/work/shared/bench/peers
PAYLOAD="$PEERS_DIR/payload/sns-cloudwatch-alarm.json"
[[ -f "$PAYLOAD" ]] || { echo "no peers payload at $PAYLOAD; set PEERS_DIR" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk (or run the peers harness once)" >&2; exit 2; }
[[ -x target/release/opsbot ]] || cargo build --release --locked --bin opsbot

WORK="$(mktemp -d "${TMPDIR:-/tmp}/opsbot-ingest.XXXXXX")"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -f "$WORK"/ingest.db*   # a few hundred MB after the unique variant; the logs stay
}
trap cleanup EXIT
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

source bench/local_bot.sh
local_bot "$WORK" ingest "$PAYLOAD" C0INGEST
URL="http://127.0.0.1:$PORT/sns"

# ---- 1. same body, next to the peers, through their harness
TARGETS="${PEERS:-rustref}"
[[ -n "$PEERS" ]] || log "--no-peers: the harness still needs one peer; measuring rustref only"
PEERBENCH_OUT="$WORK/peers" "$PEERS_DIR/run.sh" --runs "$RUNS" --targets "$TARGETS" --extra-name opsbot \
  --extra-url "$URL" --extra-cmd "bench/sns_ingest/serve.sh $WORK $PORT" | tee "$WORK/peers.txt"

# ---- 2. unique MessageIds
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
echo
echo "opsbot POST /sns, every request a new MessageId (wrk -t$THREADS -c$CONNS -d${DURATION}s after ${WARMUP}s warm-up)"
# wrk counts only answers that arrived before it stopped: the requests still in flight then
# (at most one per connection, in the warm-up and in the measured run) are stored too.
echo "| run | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | non-2xx | socket errors | inbox rows / 2xx answers (+ in flight at wrk's stop, ≤ $((2 * CONNS))) | server CPU % | RSS after MB (anon/file) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for ((run = 1; run <= RUNS; run++)); do
  bench/sns_ingest/serve.sh "$WORK" "$PORT" 2>"$WORK/unique-$run.log" & pid=$!; PIDS+=("$pid")
  for _ in $(seq 400); do
    code="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/plain; charset=UTF-8' \
      -H 'x-amz-sns-message-type: Notification' --data-binary @"$PAYLOAD" "$URL" || true)"
    [[ "$code" == 200 ]] && break; sleep 0.025
  done
  [[ "$code" == 200 ]] || { log "opsbot did not answer 200 (last $code); see $WORK/unique-$run.log"; exit 1; }
  sleep 2
  PEERBENCH_BODY="$PAYLOAD" wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" --timeout 5s -s bench/sns_ingest/unique.lua "$URL" \
    >"$WORK/unique-warmup-$run.txt"
  c0="$(ticks "$pid")" w0=$EPOCHREALTIME
  PEERBENCH_BODY="$PAYLOAD" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency \
    -s bench/sns_ingest/unique.lua "$URL" >"$WORK/unique-$run.txt"
  c1="$(ticks "$pid")" w1=$EPOCHREALTIME
  rss="$(kib "$pid" VmRSS) $(kib "$pid" RssAnon) $(kib "$pid" RssFile)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rows="$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from inbox").fetchone()[0])' "$WORK/ingest.db")"
  warm="$(grep -o 'requests=[0-9]*' "$WORK/unique-warmup-$run.txt" | cut -d= -f2) $(grep -o 'err_status=[0-9]*' "$WORK/unique-warmup-$run.txt" | cut -d= -f2)"
  grep '^PEERBENCH ' "$WORK/unique-$run.txt" | awk -v run="$run" -v rows="$rows" -v warm="$warm" -v rss="$rss" \
    -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" -v hz="$(getconf CLK_TCK)" -v conns="$CONNS" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      split(warm, wm, " "); split(rss, r, " ")
      ok = v["requests"] - v["err_status"] + wm[1] - wm[2] + 1   # + the readiness POST
      sock = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_timeout"]
      verdict = (rows >= ok && rows - ok <= 2 * conns) ? "ok" : "MISMATCH"
      printf "| %d | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %d | %d / %d (+%d) %s | %.0f | %.1f (%.1f/%.1f) |\n",
        run, v["requests"] / (v["duration_us"] / 1e6), v["p50_us"] / 1000, v["p90_us"] / 1000, v["p99_us"] / 1000,
        v["p999_us"] / 1000, v["max_us"] / 1000, v["err_status"], sock, rows, ok, rows - ok, verdict,
        100 * (c1 - c0) / hz / (w1 - w0), r[1] / 1024, r[2] / 1024, r[3] / 1024
    }'
done
echo
echo "machine: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg); logs and results: $WORK"
