#!/usr/bin/env bash
# scripts/emulators.sh — install the AWS emulators the integration tests use into
# <repo>/.venv, pinned, and prove that both servers start and answer.
#
# Idempotent: a run that finds .venv/.installed-<hash of the pins and the Python
# version> (and a venv whose interpreter still runs) exits at once. When the pins
# change, .venv is deleted and built again from scratch, so no stale package stays.
#
# What it installs (the Rust tests start the servers themselves from $OPSBOT_VENV/bin):
#   moto_server  — moto[server] 5.2.5: SSM, ECS, CodePipeline CRUD, SQS, SNS, EventBridge,
#                  DynamoDB, STS.
#   ministack    — ministack 1.5.33 + cbor2: CloudWatch, because aws-sdk-cloudwatch speaks
#                  Smithy RPC v2 CBOR, which moto does not route.
#   and the tools some tests call: slack_sdk (Slack's request signing), cfn-lint (the
#   deploy/ template), prometheus_client (a parser of the Prometheus text format).
#
# Exact commands (what this script runs, and what the Rust harness should run):
#   python3 -m venv .venv
#   .venv/bin/pip install --disable-pip-version-check -q -c <constraints> <pins>
#   .venv/bin/moto_server -H 127.0.0.1 -p PORT
#       ready when: curl -s http://127.0.0.1:PORT/moto-api/        → 200 (HTML page)
#       reset:      curl -s -X POST http://127.0.0.1:PORT/moto-api/reset → {"status": "ok"}
#   BIND_HOST=127.0.0.1 GATEWAY_PORT=PORT IOT_MTLS_ENABLED=0 .venv/bin/ministack
#       ready when: curl -s -X POST http://127.0.0.1:PORT/_ministack/reset → {"reset": "ok"}
#       (GET /_ministack/ready and /_ministack/health also exist)
#
# Traps hit while writing this (measured on the dev machine, Python 3.11, 2 cores):
#   * boto3==1.44.5 (the version the emulator notes used with moto alone) CANNOT be
#     installed next to ministack 1.5.33: ministack pins botocore==1.43.106 exactly, and
#     boto3 1.44.x needs botocore>=1.44. So boto3/botocore are pinned to 1.43.106, which
#     moto 5.2.5 accepts (it only excludes botocore 1.35.45/46).
#   * ministack binds 0.0.0.0 unless BIND_HOST=127.0.0.1 is set.
#   * ministack ALSO opens an IoT MQTT-over-TLS listener on 0.0.0.0:8883 by default
#     (whenever `cryptography` is importable — and moto pulls it in). Every ministack
#     would fight over 8883 (it degrades to a log line) and expose a port on all
#     interfaces. Set IOT_MTLS_ENABLED=0 wherever ministack is started.
#   * ministack writes /tmp/ministack-<port>.pid while running (removed on clean exit);
#     STATE_DIR/S3_DATA_DIR under /tmp are only used with PERSIST_STATE/S3_PERSIST=1.
#   * moto serves an HTML page at /moto-api/ (status 200); do not parse it as JSON.
#   * Only the direct pins were asked for, but moto breaks with new Flask/Werkzeug
#     releases now and then, so the whole resolved set is pinned with a constraints
#     list below (pip -c): the same versions on every machine.
#   * A fresh install downloads ~35 MB from PyPI and takes about 50 s on 2 cores.
#
# Env knobs: PYTHON (default python3), OPSBOT_VENV (default <repo>/.venv).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${OPSBOT_VENV:-$repo/.venv}"
python="${PYTHON:-python3}"

# Direct requirements.
pins=(
  "moto[server]==5.2.5"
  "ministack==1.5.33"
  "cbor2==6.2.1"
  "boto3==1.43.106"
  "botocore==1.43.106"
  # Slack's own Python SDK: an independent implementation of request signing,
  # used by the end-to-end tests to sign requests the way Slack does.
  "slack_sdk==3.47.0"
  # Validates the CloudFormation template in deploy/ (moto pulls in the same
  # version; pinned here because the tests call it directly).
  "cfn-lint==1.58.0"
  # The Prometheus project's own Python client: its text-format parser reads
  # what /metrics serves in the tests.
  "prometheus_client==0.26.0"
)

# Everything else the pins resolved to (pip freeze of a verified install).
constraints="\
annotated-types==0.8.0
antlr4-python3-runtime==4.13.2
attrs==26.1.0
aws-xray-sdk==2.15.0
blinker==1.9.0
certifi==2026.10.18
cffi==2.1.1
cfn-lint==1.58.0
charset-normalizer==3.5.2
click==8.5.1
cryptography==50.0.2
defusedxml==0.7.1
docker==7.2.0
Flask==3.1.3
flask-cors==6.0.5
graphql-core==3.2.12
h11==0.16.0
h2==4.4.1
hpack==4.2.0
Hypercorn==0.18.0
hyperframe==6.1.0
idna==3.20
itsdangerous==2.2.0
Jinja2==3.1.6
jmespath==1.1.0
joserfc==1.8.0
jsonata-python==0.7.1
jsonpatch==1.47
jsonpath-ng==1.16.0
jsonpointer==3.12
jsonschema==4.26.0
jsonschema-path==0.5.0
jsonschema-specifications==2025.9.1
lazy-object-proxy==1.13.0
MarkupSafe==3.0.4
mpmath==1.3.0
networkx==3.6.1
openapi-schema-validator==0.9.0
openapi-spec-validator==0.9.0
pathable==0.6.0
priority==2.0.0
py-partiql-parser==0.6.3
pycparser==3.12
pydantic==2.14.3
pydantic-settings==2.16.3
pydantic_core==2.50.4
pyparsing==3.3.3
python-dateutil==2.9.0.post0
python-dotenv==1.2.4
PyYAML==6.0.3
referencing==0.37.0
regex==2026.11.15
requests==2.34.2
responses==0.26.3
rfc3339-validator==0.1.4
rpds-py==2026.9.1
s3transfer==0.19.3
six==1.17.0
sympy==1.14.0
typing-inspection==0.4.5
typing_extensions==4.16.0
urllib3==2.8.0
Werkzeug==3.1.9
wrapt==2.5.2
wsproto==1.3.2
xmltodict==1.0.4
"

log() { printf 'emulators: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -n "$venv" && "$venv" != "/" && "$venv" != "$repo" ]] || die "refusing to use '$venv' as the venv"
command -v "$python" >/dev/null 2>&1 || die "$python not found (set PYTHON=...)"
pyver="$("$python" -c 'import sys, platform; print(sys.version.split()[0], platform.machine())')"
hash="$(printf '%s\n' "${pins[@]}" "$constraints" "$pyver" | sha256sum | cut -c1-16)"
marker="$venv/.installed-$hash"

venv_ok() {
  [[ -f "$marker" ]] || return 1
  # The venv hard-codes its own path and the base interpreter: a moved repo or an
  # upgraded python3 leaves a marker but a broken venv.
  "$venv/bin/python" -c '' 2>/dev/null || return 1
  local exe
  for exe in moto_server ministack; do
    [[ -x "$venv/bin/$exe" ]] || return 1
    head -n1 "$venv/bin/$exe" | grep -qF "$venv/bin/" || return 1
  done
}

if venv_ok; then
  exit 0
fi

# One installer at a time (two `scripts/test` in parallel would share .venv).
lockfile="${TMPDIR:-/tmp}/opsbot-emulators-$(printf '%s' "$venv" | sha256sum | cut -c1-12).lock"
exec 9>"$lockfile"
flock 9
if venv_ok; then   # someone else finished while we waited
  exit 0
fi

started=$SECONDS
log "installing into $venv (python $pyver)"
rm -rf "$venv"
if ! "$python" -m venv "$venv"; then
  rm -rf "$venv"
  die "'$python -m venv' failed; on Debian/Ubuntu install python3-venv (apt-get install -y python3-venv)"
fi

cfile="$venv/constraints.txt"
printf '%s' "$constraints" >"$cfile"
"$venv/bin/pip" install --disable-pip-version-check -q -c "$cfile" "${pins[@]}"
log "pip install took $((SECONDS - started)) s"

# --- smoke test: both servers start on 127.0.0.1 and answer ------------------

free_port() {
  "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# http METHOD URL → prints the body; fails on connection errors and non-2xx.
http() {
  if command -v curl >/dev/null 2>&1; then
    curl -sf --max-time 2 -X "$1" "$2"
  else
    "$venv/bin/python" - "$1" "$2" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[2], method=sys.argv[1], data=b"" if sys.argv[1] == "POST" else None)
with urllib.request.urlopen(req, timeout=2) as r:
    sys.stdout.write(r.read().decode("utf-8", "replace"))
PY
  fi
}

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# wait_for NAME LOG PID CHECK... — run CHECK until it succeeds (30 s at most).
wait_for() {
  local name=$1 logf=$2 pid=$3
  shift 3
  local i
  for ((i = 0; i < 300; i++)); do
    if "$@" >/dev/null 2>&1; then
      log "$name answers"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  log "$name did not answer; its log:"
  cat "$logf" >&2 || true
  return 1
}

moto_port="$(free_port)"
moto_log="$venv/smoke-moto.log"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$moto_log" 2>&1 </dev/null &
pids+=($!)
moto_ok() { http GET "http://127.0.0.1:$moto_port/moto-api/" >/dev/null; }
wait_for "moto_server on 127.0.0.1:$moto_port" "$moto_log" "${pids[-1]}" moto_ok ||
  die "moto_server did not start"

ms_port="$(free_port)"
ms_log="$venv/smoke-ministack.log"
BIND_HOST=127.0.0.1 GATEWAY_PORT="$ms_port" IOT_MTLS_ENABLED=0 \
  "$venv/bin/ministack" >"$ms_log" 2>&1 </dev/null &
pids+=($!)
ms_ok() { [[ "$(http POST "http://127.0.0.1:$ms_port/_ministack/reset")" == *'"ok"'* ]]; }
wait_for "ministack on 127.0.0.1:$ms_port" "$ms_log" "${pids[-1]}" ms_ok ||
  die "ministack did not start"

cleanup
pids=()
trap - EXIT
rm -f "$moto_log" "$ms_log"

touch "$marker"
log "ready in $((SECONDS - started)) s: $venv"
