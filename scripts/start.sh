#!/usr/bin/env bash
# Installs what is needed and starts hubchat with its embedded defaults:
# the embedded MongoDB-wire server (data under ./var), Redis on 127.0.0.1:6379, http://127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
bash scripts/ensure-redis.sh
exec .venv/bin/hubchat serve "$@"
