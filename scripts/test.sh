#!/usr/bin/env bash
# Installs what is needed and runs the whole test suite against real Redis, the embedded
# MongoDB-wire server, an in-process SMTP server and real Socket.IO clients.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh test
bash scripts/ensure-redis.sh
exec .venv/bin/python -m pytest "$@"
