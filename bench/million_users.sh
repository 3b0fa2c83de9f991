#!/bin/sh
# 1,000,000 virtual users with a 60 s think time (~16.7k req/s) sharing a pool of connections,
# held for DURATION (default 60s) against a local nginx; prints the generator's RSS.
#   bench/million_users.sh [USERS] [DURATION_S]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
USERS=${1:-1000000}
DURATION=${2:-60}
CHAOSPLUS=${CHAOSPLUS:-$HERE/../build/bin/chaosplus}
. "$HERE/nginx_lib.sh"
install_peers nginx-light
[ -x "$CHAOSPLUS" ] || { echo "no chaosplus binary at $CHAOSPLUS (set CHAOSPLUS=...)" >&2; exit 3; }
trap stop_nginx EXIT INT TERM
start_nginx
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$CHAOSPLUS" load "http://127.0.0.1:$NGINX_PORT/" --vus "$USERS" --think 60s -c 500 -d "${DURATION}s" \
  --json "$BENCH_TMP/report.json" 2> "$BENCH_TMP/progress.txt"
tail -2 "$BENCH_TMP/progress.txt"
python3 - "$BENCH_TMP/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["counters"]
print(f"users {r['users']}, {r['requests_per_second']:.0f} req/s, max RSS {r['max_rss_kib']/1024:.1f} MiB "
      f"({r['max_rss_kib']*1024/max(r['users'],1):.1f} B per user), errors {sum(c['errors'].values())}, "
      f"non-2xx {sum(v for k, v in c['status'].items() if int(k) >= 400)}, dropped {c['dropped']}")
PY
