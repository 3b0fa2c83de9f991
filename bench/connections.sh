#!/bin/sh
# Holds CONNS (default 60000) real TCP connections open at once for DURATION (default 60s)
# against a local nginx, from several worker processes (each process may open at most 20,000
# files here) and several 127.x source addresses (each gives ~28k ephemeral ports towards one
# server port). Prints the established sockets seen mid-run and the generator's RSS per connection.
#   bench/connections.sh [CONNS] [DURATION_S]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CONNS=${1:-60000}
DURATION=${2:-60}
CHAOSPLUS=${CHAOSPLUS:-$HERE/../build/bin/chaosplus}
PROCESSES=${PROCESSES:-$(( (CONNS + 14999) / 15000 ))}
SOURCES=${SOURCES:-127.0.0.2-127.0.0.$(( 1 + (CONNS + 19999) / 20000 ))}
. "$HERE/nginx_lib.sh"
install_peers nginx-light
[ -x "$CHAOSPLUS" ] || { echo "no chaosplus binary at $CHAOSPLUS (set CHAOSPLUS=...)" >&2; exit 3; }
trap stop_nginx EXIT INT TERM
NGINX_WORKERS=$(( (CONNS + 17999) / 18000 ))
export NGINX_WORKERS
start_nginx
URL="http://127.0.0.1:$NGINX_PORT/"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $PROCESSES generator processes, sources $SOURCES, nginx workers $NGINX_WORKERS"
# Each connection serves one user who sends a request every 10 s: the connections stay busy
# enough to prove they work, and idle enough that holding them is the test.
"$CHAOSPLUS" load "$URL" -c "$CONNS" --vus "$CONNS" --think 10s --processes "$PROCESSES" \
  --source-addresses "$SOURCES" -d "${DURATION}s" --json "$BENCH_TMP/report.json" > "$BENCH_TMP/summary.txt" 2> "$BENCH_TMP/progress.txt" &
GEN=$!
sleep $(( DURATION / 2 ))
echo "mid-run: established connections to the server port: $(ss -Htn state established "( dport = :$NGINX_PORT )" | wc -l)"
grep -E "^TCP:" /proc/net/sockstat
wait $GEN
cat "$BENCH_TMP/summary.txt"
tail -3 "$BENCH_TMP/progress.txt"
python3 - "$BENCH_TMP/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["counters"]
conns = r["peak_connections"]
print(f"peak connections {conns}, generator max RSS {r['max_rss_kib']/1024:.1f} MiB "
      f"({r['max_rss_kib']*1024/max(conns,1):.0f} B per connection, all processes), "
      f"errors {sum(c['errors'].values())}, error rate {c['error_rate']:.5f}")
PY
