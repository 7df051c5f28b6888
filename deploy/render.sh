#!/bin/sh
# deploy/render.sh CONFIG — prints deploy/opsbot.yaml for CONFIG: the config
# embedded (the container's OPSBOT_CONFIG_YAML) and the task role's policy as
# `opsbot iam-policy --format cloudformation` prints it for that config.
# The opsbot binary is $OPSBOT (default: `opsbot` on the PATH).
set -eu
config=${1:?usage: deploy/render.sh CONFIG}
template=$(dirname "$0")/opsbot.yaml
# OPSBOT_STORE would swap the config's store for a SQLite file: size the role
# to the config as written.
unset OPSBOT_STORE
policy=$(mktemp)
trap 'rm -f "$policy"' EXIT
"${OPSBOT:-opsbot}" iam-policy --config "$config" --format cloudformation >"$policy"
# The stack runs replicas, which share state only through one DynamoDB table.
if ! grep -q '"Sid": "Store"' "$policy"; then
    echo "render.sh: $config must use store: { dynamodb: { table: ... } } — the stack's replicas share one table" >&2
    exit 1
fi
# Each block between a BEGIN and an END marker is replaced, at the marker's
# indentation: the policy as one item of the role's Policies, the config as
# the lines of a literal block.
awk -v policy="$policy" -v config="$config" '
  function emit(file, first, rest,   line, n) {
    n = 0
    while ((getline line < file) > 0) {
      print (line == "" ? "" : (n++ == 0 ? first : rest) line)
    }
    close(file)
  }
  function indent() { match($0, /^ */); return substr($0, 1, RLENGTH) }
  /# BEGIN opsbot iam-policy/ { print; i = indent(); emit(policy, i "- ", i "  "); skip = 1; next }
  /# BEGIN opsbot config/ { print; i = indent(); emit(config, i, i); skip = 1; next }
  /# END opsbot / { skip = 0 }
  !skip { print }
' "$template"
