#!/bin/sh
# deploy/deploy.sh — renders deploy/opsbot.yaml for a config (deploy/render.sh)
# and creates or updates the CloudFormation stack with it.
#
#   deploy/deploy.sh --stack opsbot --config deploy/config.yaml \
#     --image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbot:1.0.0 \
#     --vpc vpc-0abc --subnets subnet-0a,subnet-0b \
#     --bot-token arn:aws:secretsmanager:eu-west-1:123456789012:secret:opsbot/bot-token-AbCdEf \
#     --app-token arn:aws:secretsmanager:eu-west-1:123456789012:secret:opsbot/app-token-GhIjKl \
#     [--topic arn:aws:sns:eu-west-1:123456789012:alarms] [--public-ip] [--replicas 2]
#
# Needs the AWS CLI with credentials for the target account and region, and
# `opsbot` on the PATH (or $OPSBOT). Anything after `--` goes to
# `aws cloudformation deploy` (e.g. -- --tags team=ops).
set -eu

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

stack= config= image= vpc= subnets= bot_token= app_token= topic= public_ip=DISABLED replicas=2
while [ $# -gt 0 ]; do
    case $1 in
        --stack) stack=$2; shift 2 ;;
        --config) config=$2; shift 2 ;;
        --image) image=$2; shift 2 ;;
        --vpc) vpc=$2; shift 2 ;;
        --subnets) subnets=$2; shift 2 ;;
        --bot-token) bot_token=$2; shift 2 ;;
        --app-token) app_token=$2; shift 2 ;;
        --topic) topic=$2; shift 2 ;;
        --public-ip) public_ip=ENABLED; shift ;;
        --replicas) replicas=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "deploy.sh: unknown option $1" >&2; usage ;;
    esac
done
for required in stack config image vpc subnets bot_token app_token; do
    eval "value=\$$required"
    [ -n "$value" ] || { echo "deploy.sh: --$(echo $required | tr _ -) is required" >&2; usage; }
done

template=$(mktemp)
trap 'rm -f "$template"' EXIT
"$(dirname "$0")/render.sh" "$config" >"$template"

# CAPABILITY_IAM: the stack creates the task and execution roles.
aws cloudformation deploy \
    --stack-name "$stack" \
    --template-file "$template" \
    --capabilities CAPABILITY_IAM \
    --no-fail-on-empty-changeset \
    --parameter-overrides \
        "Image=$image" \
        "VpcId=$vpc" \
        "Subnets=$subnets" \
        "SlackBotTokenSecret=$bot_token" \
        "SlackAppTokenSecret=$app_token" \
        "AlarmTopicArn=$topic" \
        "AssignPublicIp=$public_ip" \
        "DesiredCount=$replicas" \
    "$@"
aws cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].Outputs' --output table
