#!/bin/sh
# deploy/deploy.sh — opsbot in your AWS account in one command: builds and
# pushes the image (unless --image), keeps the Slack tokens in Secrets Manager
# (unless given as ARNs), renders deploy/opsbot.yaml for the config
# (deploy/render.sh) and creates or updates the CloudFormation stack.
#
#   SLACK_BOT_TOKEN=xoxb-... SLACK_APP_TOKEN=xapp-... \
#   deploy/deploy.sh --stack opsbot --config my-opsbot.yaml \
#     --vpc vpc-0abc --subnets subnet-0a,subnet-0b
#
# Options:
#   --image URI       an image already pushed (skips the build; --arch tells its
#                     architecture, X86_64 or ARM64, default X86_64)
#   --bot-token ARN   the bot token's Secrets Manager secret or SSM SecureString
#   --app-token ARN   parameter; without them SLACK_BOT_TOKEN and SLACK_APP_TOKEN
#                     are stored as the secrets <stack>/slack-bot-token and
#                     <stack>/slack-app-token (created, or given a new value)
#   --topic ARN       also take an SNS topic's messages (same region)
#   --public-ip       public subnets without NAT
#   --replicas N      1-3, default 2
#   -- ARGS           passed to `aws cloudformation deploy` (e.g. -- --tags team=ops)
#
# Needs the AWS CLI (v2) with credentials for the target account and region,
# and docker to build the image. opsbot itself is taken from $OPSBOT, the
# PATH, or the image.
set -eu

usage() {
    sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
say() { echo "deploy.sh: $*" >&2; }

stack= config= image= arch= vpc= subnets= bot_token= app_token= topic= public_ip=DISABLED replicas=2
while [ $# -gt 0 ]; do
    case $1 in
        --stack | --config | --image | --arch | --vpc | --subnets | --bot-token | --app-token | --topic | --replicas)
            [ $# -ge 2 ] || { say "$1 needs a value"; usage; }
            value=$2
            case $1 in
                --stack) stack=$value ;;
                --config) config=$value ;;
                --image) image=$value ;;
                --arch) arch=$value ;;
                --vpc) vpc=$value ;;
                --subnets) subnets=$value ;;
                --bot-token) bot_token=$value ;;
                --app-token) app_token=$value ;;
                --topic) topic=$value ;;
                --replicas) replicas=$value ;;
            esac
            shift 2 ;;
        --public-ip) public_ip=ENABLED; shift ;;
        -h | --help) usage ;;
        --) shift; break ;;
        *) say "unknown option $1"; usage ;;
    esac
done
for required in stack config vpc subnets; do
    eval "value=\$$required"
    [ -n "$value" ] || { say "--$required is required"; usage; }
done
case $replicas in 1 | 2 | 3) ;; *) say "--replicas is 1, 2 or 3 (each replica keeps 2 of Slack's 10 Socket Mode connections)"; exit 2 ;; esac
case ${arch:-X86_64} in X86_64 | ARM64) ;; *) say "--arch is X86_64 or ARM64"; exit 2 ;; esac
[ -z "$arch" ] || [ -n "$image" ] || { say "--arch goes with --image (a built image's architecture is read from it)"; exit 2; }
[ -r "$config" ] || { say "cannot read --config $config"; exit 2; }

# Tokens: an ARN given is used as it is; otherwise the environment's value is
# stored. Checked before anything is built or created.
token_source() { # NAME PREFIX ARN
    if [ -n "$3" ]; then return; fi
    eval "value=\${$1:-}"
    [ -n "$value" ] || { say "give --$(echo "$1" | sed 's/SLACK_//; s/_TOKEN//; s/_/-/' | tr A-Z a-z)-token ARN, or set $1 to store it"; exit 2; }
    case $value in
        "$2"*) ;;
        *) say "$1 does not start with $2: is it the right token?"; exit 2 ;;
    esac
}
token_source SLACK_BOT_TOKEN xoxb- "$bot_token"
token_source SLACK_APP_TOKEN xapp- "$app_token"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Where the account and region come from: the CLI's own chain.
account=$(aws sts get-caller-identity --query Account --output text)
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || true)}}
[ -n "$region" ] || { say "no region: set AWS_REGION (or the CLI profile's region)"; exit 2; }

# secret NAME VALUE: the ARN of Secrets Manager secret NAME holding VALUE
# (created, or given VALUE as its new version). The value goes through a
# file, never the command line (which other users can read in ps).
secret() {
    umask 077
    printf '%s' "$2" >"$tmp/value"
    if arn=$(aws secretsmanager describe-secret --secret-id "$1" --query ARN --output text 2>/dev/null); then
        aws secretsmanager put-secret-value --secret-id "$arn" --secret-string "file://$tmp/value" >/dev/null
    else
        arn=$(aws secretsmanager create-secret --name "$1" --description "opsbot ($stack): Slack token" \
            --secret-string "file://$tmp/value" --query ARN --output text)
    fi
    rm -f "$tmp/value"
    echo "$arn"
}
[ -n "$bot_token" ] || { bot_token=$(secret "$stack/slack-bot-token" "$SLACK_BOT_TOKEN"); say "bot token in $bot_token"; }
[ -n "$app_token" ] || { app_token=$(secret "$stack/slack-app-token" "$SLACK_APP_TOKEN"); say "app token in $app_token"; }

# The image: built from this repository and pushed to the ECR repository
# named after the stack, tagged with the commit (and -dirty for local changes).
if [ -z "$image" ]; then
    repo_root=$(cd "$(dirname "$0")/.." && pwd)
    tag=$(git -C "$repo_root" describe --always --dirty --tags 2>/dev/null || date -u +%Y%m%d%H%M%S)
    registry=$account.dkr.ecr.$region.amazonaws.com
    image=$registry/$stack:$tag
    aws ecr describe-repositories --repository-names "$stack" >/dev/null 2>&1 ||
        aws ecr create-repository --repository-name "$stack" --image-scanning-configuration scanOnPush=true \
            --image-tag-mutability IMMUTABLE >/dev/null
    say "building $image (the release build takes 10-15 minutes the first time)"
    docker build -t "$image" "$repo_root"
    aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry"
    # An immutable tag already pushed is the same commit's image: keep it.
    aws ecr describe-images --repository-name "$stack" --image-ids "imageTag=$tag" >/dev/null 2>&1 ||
        docker push "$image"
    case $(docker image inspect --format '{{.Architecture}}' "$image") in
        arm64) arch=ARM64 ;;
        *) arch=X86_64 ;;
    esac
fi

# Rendered with the image's own opsbot when none is at hand here.
OPSBOT_IMAGE=$image "$(dirname "$0")/render.sh" "$config" >"$tmp/template.yaml"

# CloudFormation takes a template of at most 51,200 bytes inline; a larger one
# (a long policy embedded) goes through S3.
size=$(wc -c <"$tmp/template.yaml")
if [ "$size" -gt 51200 ]; then
    case " $* " in
        *" --s3-bucket "*) ;;
        *) say "the rendered template is $size bytes, over the 51,200 CloudFormation takes inline: add -- --s3-bucket BUCKET (a bucket in $region it may upload to)"; exit 2 ;;
    esac
fi

# CAPABILITY_IAM: the stack creates the task and execution roles.
aws cloudformation deploy \
    --stack-name "$stack" \
    --template-file "$tmp/template.yaml" \
    --capabilities CAPABILITY_IAM \
    --no-fail-on-empty-changeset \
    --parameter-overrides \
        "Image=$image" \
        "CpuArchitecture=${arch:-X86_64}" \
        "VpcId=$vpc" \
        "Subnets=$subnets" \
        "SlackBotTokenSecret=$bot_token" \
        "SlackAppTokenSecret=$app_token" \
        "AlarmTopicArn=$topic" \
        "AssignPublicIp=$public_ip" \
        "DesiredCount=$replicas" \
    "$@"
aws cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].Outputs' --output table
