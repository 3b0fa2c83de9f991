#!/bin/sh
# chaosplus load vs wrk (and hey) against the same local nginx (1 worker): one client thread
# each, 64 connections, alternating runs, requests/s and client CPU time per request, ratios.
#   bench/wrk_compare.sh [ROUNDS] [DURATION]      (default 3 rounds of 10s)
# TLS=1: the same over HTTPS (self-signed certificate: chaosplus -k; wrk and hey do not verify).
# CHAOSPLUS=path/to/chaosplus overrides the binary (default: build/bin/chaosplus next to bench/).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${1:-3}
DURATION=${2:-10}
CONNS=${CONNS:-64}
CHAOSPLUS=${CHAOSPLUS:-$HERE/../build/bin/chaosplus}
. "$HERE/nginx_lib.sh"
install_peers wrk hey nginx-light openssl
[ -x "$CHAOSPLUS" ] || { echo "no chaosplus binary at $CHAOSPLUS (set CHAOSPLUS=...)" >&2; exit 3; }
trap stop_nginx EXIT INT TERM
NGINX_TLS=${TLS:-0} start_nginx
URL="$NGINX_SCHEME://127.0.0.1:$NGINX_PORT/"
INSECURE=""
[ "$NGINX_SCHEME" = https ] && INSECURE="-k"
RESULTS="$BENCH_TMP/results.jsonl"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Warm up nginx and the page cache once.
wrk -t1 -c"$CONNS" -d2s "$URL" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  for tool in chaosplus wrk hey; do
    case $tool in
      chaosplus) cmd="$CHAOSPLUS load $URL $INSECURE -t 1 -c $CONNS -d ${DURATION}s -q" ;;
      wrk) cmd="wrk -t1 -c$CONNS -d${DURATION}s $URL" ;;
      # hey has no thread option; GOMAXPROCS=1 gives it one core like the others.
      hey) cmd="env GOMAXPROCS=1 hey -c $CONNS -z ${DURATION}s $URL" ;;
    esac
    line=$(python3 "$HERE/measure.py" "$NGINX_WORKER" $cmd)
    echo "{\"round\": $round, \"tool\": \"$tool\", \"load\": \"$(cut -d' ' -f1 /proc/loadavg)\", \"m\": $line}" >> "$RESULTS"
    echo "round $round $tool: $line" | cut -c1-220
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["tool"], []).append(r["m"])
def med(tool, key):
    return statistics.median(m[key] for m in by[tool])
print()
print(f"{'tool':10} {'req/s (median)':>15} {'client CPU us/req':>18} {'server CPU s':>13}   runs req/s")
for tool in ("chaosplus", "wrk", "hey"):
    runs = " ".join(f"{m['rps']:.0f}" for m in by[tool])
    print(f"{tool:10} {med(tool,'rps'):15.0f} {med(tool,'cpu_us_per_request'):18.2f} {med(tool,'server_cpu_s'):13.2f}   {runs}")
print()
c, w, h = med("chaosplus", "rps"), med("wrk", "rps"), med("hey", "rps")
cc, cw = med("chaosplus", "cpu_us_per_request"), med("wrk", "cpu_us_per_request")
print(f"chaosplus/wrk req/s:          {c / w:.2f}  (bar >= 1.10)")
print(f"chaosplus/wrk CPU per request: {cc / cw:.2f}  (bar <= 1.00)")
print(f"chaosplus/hey req/s:          {c / h:.2f}  (bar >= 3.00)")
PY
