#!/bin/sh
# chaosplus fuzz vs chaosplus load against the same local nginx (1 worker, a small static answer),
# the issue 11 throughput bar: fuzz >= 10,000 requests/s and >= half of load's requests/s.
# Alternating runs, one client thread each, the same connections; requests/s, client CPU time per
# request, and the ratios (medians over the rounds).
#   bench/fuzz_compare.sh [ROUNDS] [DURATION]      (default 3 rounds of 10s)
# CONNS=32 (the fuzzer's default). CHAOSPLUS=path/to/chaosplus overrides the binary.
# TLS=1: the same over HTTPS (nginx with a self-signed certificate; load and the sender with -k;
# `chaosplus fuzz` has no option to skip the certificate check, so it is left out).
# Also runs the fuzzer's transport alone (chaosplus-sender-bench, bench/sender_bench.cpp: the
# Sender re-sending one GET as each answer arrives), built here with -DCHAOSPLUS_BENCH=ON when
# missing (SENDER_BENCH=path overrides). When the binary has no `fuzz` command yet, only load and
# the sender run.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${1:-3}
DURATION=${2:-10}
CONNS=${CONNS:-32}
CHAOSPLUS=${CHAOSPLUS:-$HERE/../build/bin/chaosplus}
SENDER_BENCH=${SENDER_BENCH:-$(dirname "$CHAOSPLUS")/chaosplus-sender-bench}
. "$HERE/nginx_lib.sh"
install_peers nginx-light openssl curl
[ -x "$CHAOSPLUS" ] || { echo "no chaosplus binary at $CHAOSPLUS (set CHAOSPLUS=...)" >&2; exit 3; }
if [ ! -x "$SENDER_BENCH" ]; then
  build=$(cd "$(dirname "$CHAOSPLUS")/.." && pwd)
  echo "building chaosplus-sender-bench in $build" >&2
  cmake -S "$HERE/.." -B "$build" -DCHAOSPLUS_BENCH=ON >/dev/null
  cmake --build "$build" --target chaosplus-sender-bench -j2 >/dev/null
fi
TOOLS="load sender"
TLS=${TLS:-0}
if [ "$TLS" = 1 ]; then
  echo "note: TLS=1: measuring load and the sender alone" >&2
elif "$CHAOSPLUS" --help 2>/dev/null | grep -q "^  fuzz "; then
  TOOLS="load fuzz sender"
else
  echo "note: $CHAOSPLUS has no 'fuzz' command: measuring load and the sender alone" >&2
fi
trap stop_nginx EXIT INT TERM
NGINX_TLS=$TLS start_nginx
URL="$NGINX_SCHEME://127.0.0.1:$NGINX_PORT/"
INSECURE=""
[ "$NGINX_SCHEME" = https ] && INSECURE="-k"
# The OpenAPI document of nginx's one answer: every request the fuzzer makes is about GET /.
SPEC="$BENCH_TMP/nginx-openapi.yaml"
cat > "$SPEC" <<'YAML'
openapi: 3.0.3
info:
  title: nginx static answer
  version: "1"
paths:
  /:
    get:
      operationId: getRoot
      responses:
        "200":
          description: the static answer
          content:
            text/plain:
              schema:
                type: string
YAML
RESULTS="$BENCH_TMP/results.jsonl"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Warm up nginx once.
"$CHAOSPLUS" load "$URL" $INSECURE -t 1 -c "$CONNS" -d 2s -q >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  for tool in $TOOLS; do
    case $tool in
      load) cmd="$CHAOSPLUS load $URL $INSECURE -t 1 -c $CONNS -d ${DURATION}s -q" ;;
      fuzz) cmd="$CHAOSPLUS fuzz --openapi $SPEC --base-url $URL --duration ${DURATION}s --seed $round -c $CONNS -q" ;;
      sender) cmd="$SENDER_BENCH $URL $INSECURE --connections $CONNS --seconds $DURATION" ;;
    esac
    line=$(python3 "$HERE/measure.py" "$NGINX_WORKER" $cmd)
    # printf, not echo: dash's echo would turn the \n escapes of a captured output into newlines.
    printf '{"round": %s, "tool": "%s", "load": "%s", "m": %s}\n' "$round" "$tool" "$(cut -d' ' -f1 /proc/loadavg)" \
      "$line" >> "$RESULTS"
    echo "round $round $tool: $line" | cut -c1-220
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RESULTS" <<'PY'
import json, re, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    m = r["m"]
    if not m["rps"] and m["requests"] and m["seconds"]:
        # `chaosplus fuzz` prints "fuzz: N requests in S s (R requests/s)": measure.py finds N and S.
        m["rps"] = m["requests"] / m["seconds"]
    by.setdefault(r["tool"], []).append(m)
def med(tool, key):
    return statistics.median(m[key] for m in by[tool])
print()
print(f"{'tool':8} {'req/s (median)':>15} {'client CPU us/req':>18} {'server CPU s':>13}   runs req/s")
for tool in by:
    runs = " ".join(f"{m['rps']:.0f}" for m in by[tool])
    print(f"{tool:8} {med(tool,'rps'):15.0f} {med(tool,'cpu_us_per_request'):18.2f} {med(tool,'server_cpu_s'):13.2f}   {runs}")
print()
load = med("load", "rps")
if not load:
    sys.exit("chaosplus load measured nothing: see its output above")
for tool in ("fuzz", "sender"):
    if tool in by:
        r = med(tool, "rps")
        print(f"{tool}: {r:.0f} requests/s (bar >= 10000), {tool}/load: {r / load:.2f} (bar >= 0.50)")
PY
