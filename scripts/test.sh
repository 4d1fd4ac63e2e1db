#!/usr/bin/env bash
# Installs what is needed and runs the whole test suite against real Redis, the embedded
# MongoDB-wire server, an in-process SMTP server, real Socket.IO clients and Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh test
bash scripts/ensure-redis.sh
bash scripts/ensure-chromium.sh
exec .venv/bin/python -m pytest "$@"
