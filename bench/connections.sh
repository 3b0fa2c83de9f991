#!/bin/sh
# Holds CONNS (default 60000) real TCP connections open at once for DURATION (default 60s)
# against a local nginx, from several worker processes (each process may open at most 20,000
# files here) and several 127.x source addresses. Samples the established sockets every 5 s
# (the first time all are up, and the fewest seen after that), prints the kernel's TCP counters
# of the run (listen overflows, retransmits, timeouts), nginx's error log, and the generator's
# RSS per connection.
#   bench/connections.sh [CONNS] [DURATION_S]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CONNS=${1:-60000}
DURATION=${2:-60}
CHAOSPLUS=${CHAOSPLUS:-$HERE/../build/bin/chaosplus}
PROCESSES=${PROCESSES:-$(( (CONNS + 14999) / 15000 ))}
# At most a third of the ephemeral port range per source address: Linux searches a source's free
# ports linearly, one parity (half the range) first, so past half the range every connect() walks
# thousands of taken ports in the kernel (measured: 20,000 per address took 78 % of both cores in
# __inet_check_established for 30 s and stalled the generator into 10 s request timeouts).
# (dash's read gets one byte out of procfs files: go through cat)
RANGE=$(cat /proc/sys/net/ipv4/ip_local_port_range)
PORT_LOW=${RANGE%%[[:space:]]*}
PORT_HIGH=${RANGE##*[[:space:]]}
PER_SOURCE=$(( (PORT_HIGH - PORT_LOW + 1) / 3 ))
NSOURCES=$(( (CONNS + PER_SOURCE - 1) / PER_SOURCE ))
SOURCES=${SOURCES:-127.0.0.2-127.0.0.$(( 1 + NSOURCES ))}
. "$HERE/nginx_lib.sh"
install_peers nginx-light
[ -x "$CHAOSPLUS" ] || { echo "no chaosplus binary at $CHAOSPLUS (set CHAOSPLUS=...)" >&2; exit 3; }
GEN=""
cleanup() {
  [ -n "$GEN" ] && kill "$GEN" 2>/dev/null || true
  stop_nginx
}
trap cleanup EXIT INT TERM
NGINX_WORKERS=$(( (CONNS + 17999) / 18000 ))
export NGINX_WORKERS
start_nginx
URL="http://127.0.0.1:$NGINX_PORT/"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $PROCESSES generator processes, sources $SOURCES" \
     "(ports $PORT_LOW-$PORT_HIGH each), nginx workers $NGINX_WORKERS"
nstat -n >/dev/null 2>&1 || true  # the counters below are this run's increments
# Each connection serves one user who sends a request every 10 s: the connections stay busy
# enough to prove they work, and idle enough that holding them is the test.
"$CHAOSPLUS" load "$URL" -c "$CONNS" --vus "$CONNS" --think 10s --processes "$PROCESSES" \
  --source-addresses "$SOURCES" -d "${DURATION}s" --json "$BENCH_TMP/report.json" > "$BENCH_TMP/summary.txt" 2> "$BENCH_TMP/progress.txt" &
GEN=$!
START=$(date +%s)
sleep 2
ALL_AT="" FEWEST="" SAMPLES=""
while kill -0 "$GEN" 2>/dev/null; do
  t=$(( $(date +%s) - START ))
  # Stop sampling before the end, when the generator closes its connections.
  [ "$t" -ge $(( DURATION - 3 )) ] && break
  est=$(ss -Htn state established "( dport = :$NGINX_PORT )" | wc -l)
  SAMPLES="$SAMPLES ${t}s:$est"
  if [ -z "$ALL_AT" ] && [ "$est" -ge "$CONNS" ]; then ALL_AT=$t; fi
  if [ -n "$ALL_AT" ] && { [ -z "$FEWEST" ] || [ "$est" -lt "$FEWEST" ]; }; then FEWEST=$est; fi
  sleep 5
done
echo "established connections to the server port (every 5 s):$SAMPLES"
if [ -n "$ALL_AT" ]; then
  echo "all $CONNS established by ${ALL_AT}s; fewest established after that: $FEWEST"
else
  echo "never all $CONNS established"
fi
grep -E "^TCP:" /proc/net/sockstat
wait "$GEN"
GEN=""
cat "$BENCH_TMP/summary.txt"
tail -3 "$BENCH_TMP/progress.txt"
echo "kernel TCP counters of the run (nstat, non-zero):"
nstat 2>/dev/null | grep -E "ListenOverflows|ListenDrops|TCPTimeouts|TCPSynRetrans|RetransSegs|TCPReqQFull|SyncookiesSent|TCPAbortOnTimeout|TCPRcvQDrop|TCPBacklogDrop" || echo "  none"
echo "nginx error log: $(wc -l < "$BENCH_TMP/logs/error.log") lines"; head -5 "$BENCH_TMP/logs/error.log"
python3 - "$BENCH_TMP/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["counters"]
conns = r["peak_connections"]
print(f"peak connections {conns}, generator max RSS {r['max_rss_kib']/1024:.1f} MiB "
      f"({r['max_rss_kib']*1024/max(conns,1):.0f} B per connection, all processes), "
      f"errors {sum(c['errors'].values())} {c['errors']}, error rate {c['error_rate']:.5f}")
PY
