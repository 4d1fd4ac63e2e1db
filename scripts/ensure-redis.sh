#!/usr/bin/env bash
# Makes sure the Redis that hubchat is configured to use answers.
#
# The URL is $HUBCHAT_REDIS_URL, else redis_url from the file named by $HUBCHAT_CONFIG, else the
# default redis://127.0.0.1:6379/0.  An empty URL (single node, no Redis) needs nothing.  When
# nothing answers and the URL points at this machine's loopback (plain redis://), a redis-server
# without persistence is started there; any other URL is only checked, never started.
set -euo pipefail
cd "$(dirname "$0")/.."
python=python3
[ -x .venv/bin/python ] && python=.venv/bin/python

# host, port, password, whether it is loopback: parsed by Python's standard library (no secrets
# printed; the password only goes to redis-cli through REDISCLI_AUTH).
parsed="$("$python" - <<'EOF'
import ipaddress, os, sys, tomllib
from urllib.parse import urlsplit

url = os.environ.get("HUBCHAT_REDIS_URL")
if url is None and os.environ.get("HUBCHAT_CONFIG"):
    with open(os.environ["HUBCHAT_CONFIG"], "rb") as f:
        data = tomllib.load(f)
    url = data.get("hubchat", data).get("redis_url")
if url is None:
    url = "redis://127.0.0.1:6379/0"
if not url:
    print("none")
    sys.exit()
parts = urlsplit(url)
host = parts.hostname or "127.0.0.1"
try:
    loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
except ValueError:
    loopback = False
shown = f"{parts.scheme}://{host}:{parts.port or 6379}"
print(parts.scheme, host, parts.port or 6379, "yes" if loopback else "no", shown, parts.password or "", sep="\t")
EOF
)"
[ "$parsed" = "none" ] && exit 0
IFS=$'\t' read -r scheme host port loopback shown password <<<"$parsed"
export REDISCLI_AUTH="$password"
[ -n "$password" ] || unset REDISCLI_AUTH

tls=()
[ "$scheme" = "rediss" ] && tls=(--tls)
answers() {
  command -v redis-cli >/dev/null 2>&1 && redis-cli "${tls[@]}" -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG
}

answers && exit 0
if [ "$scheme" != "redis" ] || [ "$loopback" != "yes" ]; then
  echo "Redis at $shown does not answer; this script starts one only for a loopback redis:// URL" >&2
  exit 1
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)" >&2
  exit 1
fi
# The configuration goes through stdin ("redis-server -"), so a password never shows in `ps`.
{
  printf 'daemonize yes\nbind %s\nport %s\nsave ""\nappendonly no\n' "$host" "$port"
  [ -z "$password" ] || printf 'requirepass "%s"\n' "$password"
} | redis-server - >/dev/null
for _ in $(seq 1 50); do
  answers && exit 0
  sleep 0.1
done
echo "redis-server did not start on $shown" >&2
exit 1
