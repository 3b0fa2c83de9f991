#!/bin/sh
# The open model against a local nginx (1 worker): does `chaosplus load --rate R/s` hold the rate
# (target vs achieved, deviation in %), and does a 1 s stall of the server (SIGSTOP of its worker
# in the middle of a second run) show in the corrected p99/max, as it must when latency counts
# from the intended send time (coordinated omission), while the uncorrected figures hide it.
#   bench/open_rate.sh [RATE] [SECONDS]      (default 20000 req/s for 10 s)
# CONNS (default 200): connections; CHAOSPLUS=path/to/chaosplus overrides the binary.
# wrk2, the peer for this measurement, is not packaged in Debian 12 (only wrk, which has no open
# model), so there is no peer run: the figures stand against the bar (±1 %, p99/max >= ~1 s).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
RATE=${1:-20000}
DURATION=${2:-10}
CONNS=${CONNS:-200}
CHAOSPLUS=${CHAOSPLUS:-$HERE/../build/bin/chaosplus}
. "$HERE/nginx_lib.sh"
install_peers nginx-light curl
[ -x "$CHAOSPLUS" ] || { echo "no chaosplus binary at $CHAOSPLUS (set CHAOSPLUS=...)" >&2; exit 3; }
if apt-cache show wrk2 >/dev/null 2>&1; then
  echo "note: wrk2 is available from apt here; this script does not run it yet" >&2
else
  echo "wrk2 is not packaged in Debian (apt-cache show wrk2: not found): no peer run" >&2
fi
STOPPED=""
cleanup() {
  [ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null || true
  stop_nginx
}
trap cleanup EXIT INT TERM
start_nginx
URL="http://127.0.0.1:$NGINX_PORT/"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Steady: the rate as achieved.
"$CHAOSPLUS" load "$URL" --rate "$RATE/s" -c "$CONNS" -d "${DURATION}s" -q --json "$BENCH_TMP/steady.json" >/dev/null
echo "load average after run 1: $(cut -d' ' -f1-3 /proc/loadavg)"

# 2. The same, with the nginx worker stopped for 1 s in the middle.
"$CHAOSPLUS" load "$URL" --rate "$RATE/s" -c "$CONNS" -d "${DURATION}s" -q --json "$BENCH_TMP/stall.json" >/dev/null &
LOADER=$!
sleep "$(python3 -c "print($DURATION / 2)")"
STOPPED=$NGINX_WORKER
kill -STOP "$NGINX_WORKER"
sleep 1
kill -CONT "$NGINX_WORKER"
STOPPED=""
wait "$LOADER"
echo "load average after run 2: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$BENCH_TMP/steady.json" "$BENCH_TMP/stall.json" "$RATE" <<'PY'
import json, statistics, sys
steady, stall, rate = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), float(sys.argv[3])

def ms(us):
    return f"{us / 1000:.2f} ms" if us < 1_000_000 else f"{us / 1e6:.3f} s"

def rates(r):
    c = r["counters"]
    achieved = c["requests"] / r["elapsed_s"]
    # Whole seconds only: the last tick may be a fraction of one.
    full = [t["requests"] for t in r["ticks"][:-1]] or [c["requests"]]
    return achieved, full, c

print()
print(f"target rate: {rate:.0f} req/s")
for name, r in (("steady", steady), ("stall", stall)):
    achieved, full, c = rates(r)
    dev = 100 * (achieved - rate) / rate
    errors = sum(c["errors"].values())
    print(f"{name:7} {c['requests']} responses in {r['elapsed_s']:.3f} s: achieved {achieved:.1f} req/s, "
          f"deviation {dev:+.3f} % (bar ±1 %)")
    print(f"{'':7} "
          f"per-second min/median/max {min(full)}/{statistics.median(full):.0f}/{max(full)}  "
          f"errors {errors}  dropped {c['dropped']}")
for name, r in (("steady", steady), ("stall", stall)):
    lat, unc = r["latency"], r["uncorrected_latency"]
    p = lat["percentiles_us"]
    print(f"{name:7} corrected p50 {ms(p['p50'])}  p99 {ms(p['p99'])}  p99.9 {ms(p['p99.9'])}  max {ms(lat['max_us'])}"
          f"   | uncorrected p99 {ms(unc['percentiles_us']['p99'])}  max {ms(unc['max_us'])}")
p99, mx = stall["latency"]["percentiles_us"]["p99"], stall["latency"]["max_us"]
print(f"stall shows: p99 {ms(p99)} and max {ms(mx)} (bar: >= ~1 s) -> "
      f"{'yes' if p99 >= 800_000 and mx >= 950_000 else 'NO'}")
PY
