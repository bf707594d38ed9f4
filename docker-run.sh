#!/usr/bin/env bash
# PayGate container helper: a thin wrapper around the profiles in compose.yaml.
# Run `./docker-run.sh help` for usage. docker-run.ps1 is the Windows twin.
set -euo pipefail

# Always work from the repo root, so compose.yaml and .env are found.
cd "$(dirname "${BASH_SOURCE[0]}")"

SECRET_HINT='python -c "import secrets; print(secrets.token_urlsafe(48))"'
MIN_SECRET_BYTES=32
COMPOSE=()

usage() {
    cat <<'EOF'
Usage: ./docker-run.sh COMMAND [ARGS...]

Commands:
  dev          Build and run the dev app (hot reload, SQLite) on http://localhost:3001.
               Runs in the foreground; Ctrl-C stops it. Extra ARGS go to
               `docker compose up` (e.g. -d to detach).
  prod         Build and start PostgreSQL, Redis and two app replicas behind nginx in
               the background on http://localhost:3001 (each replica directly:
               http://127.0.0.1:3011 and http://127.0.0.1:3012).
               Needs PAYGATE_JWT_SECRET and PAYGATE_STORAGE_SECRET (>= 32 bytes each)
               in the environment or in a .env file next to compose.yaml.
               Optional: POSTGRES_PASSWORD (URL-safe).
  stop         Stop and remove the containers of both profiles; data volumes are kept.
  clean        Remove containers, networks, volumes (ALL DATA: database, SQLite)
               and locally built images. Asks first unless -y / --yes is given.
  help         Show this help.

Generate a secret with:
  python -c "import secrets; print(secrets.token_urlsafe(48))"
EOF
}

die() {
    echo "docker-run.sh: $*" >&2
    exit 1
}

# Find docker and a compose implementation; fail with a clear message if not.
require_docker() {
    command -v docker >/dev/null 2>&1 \
        || die "docker was not found on PATH. Install Docker Desktop or Docker Engine: https://docs.docker.com/get-docker/"
    if docker compose version >/dev/null 2>&1; then
        COMPOSE=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1; then
        COMPOSE=(docker-compose)
    else
        die "Docker Compose was not found (neither 'docker compose' nor 'docker-compose'). Install the Compose plugin: https://docs.docker.com/compose/install/"
    fi
    docker info >/dev/null 2>&1 \
        || die "cannot reach the Docker engine. Is it running, and may this user use it (e.g. member of the 'docker' group)?"
}

# Compose with both profiles active, so stop/clean cover every service.
compose_all() {
    "${COMPOSE[@]}" --profile dev --profile prod "$@"
}

# Prints where NAME is set: "env", "dotenv" (assigned in ./.env, which compose
# reads; the app itself checks values from there), or nothing if unset.
secret_source() {
    local name=$1
    if [[ -n "${!name:-}" ]]; then
        echo env
    elif [[ -f .env ]] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?${name}[[:space:]]*=[[:space:]]*[^[:space:]#]" .env; then
        echo dotenv
    fi
}

require_prod_secrets() {
    local name origin missing=0
    for name in PAYGATE_JWT_SECRET PAYGATE_STORAGE_SECRET; do
        origin=$(secret_source "$name")
        if [[ -z "$origin" ]]; then
            echo "docker-run.sh: $name is not set." >&2
            missing=1
        elif [[ "$origin" == env ]] && (( $(printf '%s' "${!name}" | wc -c) < MIN_SECRET_BYTES )); then
            echo "docker-run.sh: $name is shorter than $MIN_SECRET_BYTES bytes." >&2
            missing=1
        fi
    done
    if (( missing )); then
        cat >&2 <<EOF

The prod profile refuses to start without strong secrets. Generate each with
  $SECRET_HINT
and export it (or put NAME=value lines in a .env file next to compose.yaml;
keep that file out of git). Every replica must get the same values.
EOF
        exit 1
    fi
}

cmd_dev() {
    require_docker
    echo "Starting PayGate (dev) on http://localhost:3001 ..."
    "${COMPOSE[@]}" --profile dev up --build "$@"
}

cmd_prod() {
    require_prod_secrets
    require_docker
    "${COMPOSE[@]}" --profile prod up --build --detach "$@"
    "${COMPOSE[@]}" --profile prod ps
    cat <<EOF

PayGate (prod) is starting on http://localhost:3001 (replicas: http://127.0.0.1:3011, :3012).
Follow the logs with:  ${COMPOSE[*]} --profile prod logs -f
Stop with:             ./docker-run.sh stop
EOF
}

cmd_stop() {
    require_docker
    compose_all down --remove-orphans
}

cmd_clean() {
    local assume_yes=0 arg answer
    for arg in "$@"; do
        case "$arg" in
            -y|--yes) assume_yes=1 ;;
            *) die "clean: unknown option '$arg' (only -y / --yes)" ;;
        esac
    done
    require_docker
    if (( ! assume_yes )); then
        [[ -t 0 ]] || die "clean: no terminal to confirm on; pass -y to delete without asking."
        read -r -p "Delete PayGate containers, volumes (ALL DATA) and local images? [y/N] " answer
        case "$answer" in
            y|Y|yes|YES|Yes) ;;
            *) echo "Aborted; nothing removed."; exit 1 ;;
        esac
    fi
    compose_all down --volumes --remove-orphans --rmi local
}

main() {
    local command=${1:-help}
    if (( $# )); then shift; fi
    case "$command" in
        dev) cmd_dev "$@" ;;
        prod) cmd_prod "$@" ;;
        stop) cmd_stop "$@" ;;
        clean) cmd_clean "$@" ;;
        help|-h|--help) usage ;;
        *) usage >&2; die "unknown command '$command'" ;;
    esac
}

main "$@"
