# syntax=docker/dockerfile:1
#
# PayGate image, multi-stage:
#   base    - python:3.11-slim with sane Python/pip defaults
#   builder - /opt/venv with the runtime dependencies from pyproject.toml
#   dev     - builder + the `dev` extra; source bind-mounted, hot reload
#   prod    - slim runtime: /opt/venv + app sources, non-root, healthcheck
#
# Build a target with e.g. `docker build --target prod -t paygate:prod .`;
# compose.yaml and docker-run.sh do this for you.

ARG PYTHON_VERSION=3.11

# ---------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS base

# PATH: the venv built below comes first wherever it exists.
# PAYGATE_HOST: listen on all interfaces, or nothing outside the container
#   can reach the app. The port is left to the app's default (3001) so that
#   PAYGATE_PORT or PORT can still override it at run time.
# NICEGUI_STORAGE_PATH: NiceGUI keeps app.storage in ./.nicegui by default;
#   keep it in the data dir, which is writable by the non-root user and
#   persisted with the data volume.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PATH="/opt/venv/bin:${PATH}" \
    PAYGATE_HOST=0.0.0.0 \
    PAYGATE_DATA_DIR=/app/data \
    NICEGUI_STORAGE_PATH=/app/data/.nicegui

WORKDIR /app

# ---------------------------------------------------------------------------
FROM base AS builder

RUN python -m venv /opt/venv

# Dependencies first, from pyproject.toml alone, so this (slow) layer stays
# cached until the dependency list changes rather than on every code edit.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(deps))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# Then the project itself (no deps: they are already in). This also proves the
# package builds; at run time the sources in /app come first on sys.path.
COPY app/ app/
COPY domain/ domain/
COPY storage/ storage/
COPY bench/ bench/
COPY main.py alembic.ini ./
COPY migrations/ migrations/
RUN pip install --no-deps .

# ---------------------------------------------------------------------------
FROM builder AS dev

# Editable install with the dev extra (pytest, ruff, playwright, ...): the
# bind-mounted /app (see compose.yaml) is what gets imported and reloaded.
RUN pip install -e ".[dev]"

ENV PAYGATE_RELOAD=1

EXPOSE 3001
CMD ["python", "main.py"]

# ---------------------------------------------------------------------------
FROM base AS prod

# Fail closed: a prod image refuses to start without real secrets
# (PAYGATE_JWT_SECRET, PAYGATE_STORAGE_SECRET) and never seeds demo data.
ENV PAYGATE_ENV=production \
    PAYGATE_DEMO_DATA=0

# Fixed uid/gid so volume ownership is stable across rebuilds.
RUN groupadd --system --gid 10001 paygate \
    && useradd --system --uid 10001 --gid paygate --home-dir /app \
       --no-create-home --shell /usr/sbin/nologin paygate \
    && mkdir -p /app/data \
    && chown paygate:paygate /app/data

COPY --from=builder /opt/venv /opt/venv

# Sources stay root-owned (read-only to the app); only /app/data is writable.
# A fresh named volume mounted on /app/data inherits that ownership.
COPY app/ app/
COPY domain/ domain/
COPY storage/ storage/
COPY bench/ bench/
COPY main.py alembic.ini ./
COPY migrations/ migrations/

EXPOSE 3001

# No curl in slim images: probe /health with the standard library. urlopen
# raises (exit 1) on connection errors and on any non-2xx status.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; port = os.environ.get('PAYGATE_PORT') or os.environ.get('PORT') or '3001'; u.urlopen('http://127.0.0.1:' + port + '/health', timeout=4)"]

USER paygate

CMD ["python", "main.py"]
