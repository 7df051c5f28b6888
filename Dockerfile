# syntax=docker/dockerfile:1
#
# opsbot container image: build the release binary, ship it on a slim Debian with
# CA certificates and nothing else, running as a non-root user.
#
#   docker build -t opsbot .
#   docker run --rm -e OPSBOT_... opsbot            # runs `opsbot serve`
#
# Builder and runtime are the same Debian release (bookworm) so the binary's glibc
# matches. TLS is rustls (ring), so no OpenSSL is needed at run time; the native
# root store it reads comes from the ca-certificates package.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# The whole workspace: Cargo.toml names the test and bench targets, and cargo
# refuses a manifest whose targets are missing. .dockerignore keeps target/,
# .venv/ and .git/ out of the context.
COPY . .
# Cache mounts keep the registry and target/ between builds (BuildKit); the binary
# is copied out of the cached target/ in the same step, without its symbol table
# (the release profile keeps symbols for bench/layout/record.sh; the image has
# no use for them).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin opsbot \
 && install -D -s -m 0755 target/release/opsbot /out/opsbot

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 opsbot \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/opsbot \
      --shell /usr/sbin/nologin opsbot \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/opsbot
COPY --from=build /out/opsbot /usr/local/bin/opsbot
# The working directory is the one writable place: a relative SQLite path (the
# default store) lands here. Mount a volume on it to keep state across restarts.
WORKDIR /var/lib/opsbot
# Numeric so that runtimes enforcing runAsNonRoot can verify it.
USER 10001:10001
# Inside a container the listener must take connections from outside it (the
# port mapping, the orchestrator's probes), so it listens on every interface
# here; the bot's own default, outside containers, stays 127.0.0.1:8080.
# The environment outranks the config file, so change it with
# -e OPSBOT_LISTEN=...: a server.listen in the file is overridden by this.
# `opsbot probe` below reads the same setting, so it follows.
ENV OPSBOT_LISTEN=0.0.0.0:8080
# HTTP: /slack/* (HTTP mode), /sns, /healthz, /readyz, and /metrics (unless
# server.metrics_listen gives it a port of its own).
EXPOSE 8080
# Docker's HEALTHCHECK runs a command inside the container, and this image has
# no curl or wget (one just for this would add a binary and its libraries to
# every deployment): `opsbot probe` GETs the bot's own /healthz on the listen
# address above (asked on 127.0.0.1) and exits 0 or 1. Liveness, not
# readiness: a replica waiting for Slack or the store is not restarted.
# Orchestrators probe /readyz themselves (Kubernetes httpGet readiness probes,
# ECS/ALB target-group health checks).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/opsbot", "probe", "--timeout", "3s"]
ENTRYPOINT ["/usr/local/bin/opsbot"]
CMD ["serve"]
