#!/usr/bin/env bash
# Make sure a Chromium exists for the Playwright journeys, without downloading a browser build
# where that is impossible: Debian's package when we are root, else Playwright's own download.
set -euo pipefail
PY=${PY:-.venv/bin/python}
for candidate in "${PAYGATE_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "chromium: $candidate"
    exit 0
  fi
done
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "chromium: installing Debian's package (about 30 s)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "chromium: not found; trying Playwright's own download"
"$PY" -m playwright install chromium
