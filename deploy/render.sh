#!/bin/sh
# deploy/render.sh CONFIG — prints deploy/opsbot.yaml for CONFIG: the config
# embedded (the container's OPSBOT_CONFIG_YAML), the task role's policy as
# `opsbot iam-policy --format cloudformation` prints it for that config, and
# the table and queue the stack creates named as the config names them.
#
# The opsbot binary is $OPSBOT, else `opsbot` on the PATH, else the one in the
# image $OPSBOT_IMAGE (run with docker, CONFIG's directory mounted read-only).
set -eu
config=${1:?usage: deploy/render.sh CONFIG}
template=$(dirname "$0")/opsbot.yaml
fail() {
    echo "render.sh: $config: $*" >&2
    exit 1
}
[ -r "$config" ] || fail "cannot read it"

# The stack embeds this one file: a policy or declared parameters kept in
# another file would not exist in the container, and serve would refuse to start.
others=$(grep -nE '(^|[^A-Za-z0-9_#])file:' "$config" | grep -vE '^[0-9]+:[[:space:]]*#' || true)
if [ -n "$others" ]; then
    fail "names other files, which the stack does not ship (put their content in this file; an S3 url: for declared parameters):
$others"
fi

# The task role's policy for the config, from whichever opsbot is at hand.
iam_policy() {
    if [ -n "${OPSBOT:-}" ]; then
        "$OPSBOT" iam-policy --config "$config" --format cloudformation
    elif command -v opsbot >/dev/null 2>&1; then
        opsbot iam-policy --config "$config" --format cloudformation
    elif [ -n "${OPSBOT_IMAGE:-}" ]; then
        dir=$(cd "$(dirname "$config")" && pwd)
        docker run --rm --network none -v "$dir:/config:ro" --entrypoint /usr/local/bin/opsbot "$OPSBOT_IMAGE" \
            iam-policy --config "/config/$(basename "$config")" --format cloudformation
    else
        echo "render.sh: no opsbot: set OPSBOT to the binary, put it on the PATH, or set OPSBOT_IMAGE to its image" >&2
        return 1
    fi
}

# OPSBOT_STORE would swap the config's store for a SQLite file: size the role
# to the config as written.
unset OPSBOT_STORE
policy=$(mktemp)
trap 'rm -f "$policy" "$policy.said"' EXIT
iam_policy >"$policy" 2>"$policy.said" || { cat "$policy.said" >&2; exit 1; }
# The role's inline policy must fit IAM's 10,240 characters: iam-policy says
# when it does not, and the stack would fail only after the image was pushed.
if grep -q '^warning:' "$policy.said"; then
    fail "$(cat "$policy.said")"
fi

# The names the stack gives its table and queue are the config's, read from
# the policy just printed (one statement each, in iam-policy's own format).
table=$(sed -n 's|.*:dynamodb:${AWS::Region}:${AWS::AccountId}:table/\([^/"]*\)".*|\1|p' "$policy" | sort -u)
[ -n "$table" ] ||
    fail "must use store: { dynamodb: { table: ... } } — the stack's replicas share one table (in the stack's region and account)"
queues=$(sed -n 's|.*:sqs:${AWS::Region}:${AWS::AccountId}:\([^"]*\)".*|\1|p' "$policy" | sort -u)
case $queues in
    "") fail 'must read the queue the stack creates: notifications: { sqs_queues: ["https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/opsbot-events"] }' ;;
    *"
"*) fail "names several queues in the stack's region and account ($(echo $queues)); the stack creates one" ;;
esac

# Each block between a BEGIN and an END marker is replaced, at the marker's
# indentation: the policy as one item of the role's Policies, the config as
# the lines of a literal block, the names as the Config mapping.
awk -v policy="$policy" -v config="$config" -v table="$table" -v queue="$queues" '
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
  /# BEGIN opsbot names/ { print; i = indent(); print i "Names: { Table: " table ", Queue: " queue " }"; skip = 1; next }
  /# END opsbot / { skip = 0 }
  !skip { print }
' "$template"
