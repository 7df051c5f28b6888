# Sourced by the shell benchmarks (bench/sns_ingest.sh, bench/layout/record.sh):
# a local Slack sink and an opsbot config that takes SNS notifications unsigned,
# both on 127.0.0.1.
#
#   local_bot WORK NAME PAYLOAD CHANNEL
#
# starts bench/sns_ingest/slack_sink.py (its PID joins PIDS, for the caller's
# cleanup), writes WORK/NAME.yaml (store WORK/NAME.db, the payload's topic
# listed, signatures skipped, CHANNEL as the default channel) and sets SINK
# (the sink's base URL), CONFIG (the file) and PORT (a free port for opsbot).
# The payloads are recorded ones, years old; opsbot refuses SNS messages
# older than notifications.sns.max_age (1h) as replays, so the benchmark
# config accepts ten years (and the inbox remembers keys as long, which
# max_age must not exceed) — benchmark-only, like the skipped signatures.
local_bot() {
  local work="$1" name="$2" payload="$3" channel="$4" topic
  python3 bench/sns_ingest/slack_sink.py "$work/sink.port" & PIDS+=($!)
  for _ in $(seq 100); do [[ -s "$work/sink.port" ]] && break; sleep 0.05; done
  SINK="http://127.0.0.1:$(cat "$work/sink.port")"
  topic="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["TopicArn"])' "$payload")"
  CONFIG="$work/$name.yaml"
  cat >"$CONFIG" <<YAML
store: { path: $work/$name.db, retention: { inbox: 3650d } }
slack: { api_url: $SINK/api }
notifications:
  default_channel: $channel
  insecure_skip_sns_signatures: true
  sns: { topics: ["$topic"], max_age: 3650d }
YAML
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
}
