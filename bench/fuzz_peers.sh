#!/usr/bin/env bash
# Which seeded bugs of the demo shop (demo/README.md) each fuzzer or scanner triggers in the same
# time, from the same starting point: wapiti and sqlmap (Debian), npm openapi-fuzzer-core (driven by
# bench/peers/openapi_fuzzer_core.js), artillery with artillery-plugin-fuzzer (the hand-written
# scenario bench/peers/artillery-fuzz.yaml), and chaosplus fuzz + scan from the OpenAPI document
# alone. Each tool gets a fresh shop (--bug all by default, restarted when the crash bug kills it)
# and DURATION seconds; the shop's "bug-hit: NAME" lines are the ground truth. Prints, per tool,
# the distinct bugs triggered, the requests the shop handled and their rate, and for chaosplus its
# unique findings mapped to bugs (bench/peers/map_findings.py).
#
# usage: bench/fuzz_peers.sh [TOOL...]     (default: wapiti sqlmap openapi-fuzzer-core artillery chaosplus)
#   DURATION=60   seconds per tool
#   BUGS=all      the shop's --bug value (e.g. BUGS=all but crash/hang: "boundary-500,stack-leak,...")
#   PEERS_DIR=~/.cache/chaosplus-bench-peers   where the npm peers are installed
#   KEEP=1        keep the logs and findings (the folder is printed)
#   CHAOSPLUS=build/bin/chaosplus   (CHAOSPLUS_SCAN: another binary for `scan`, default the same)
# Only loopback is targeted. fail-open needs the token service down, which no run here does: the
# most any tool can trigger is 14 of the 15 bugs (experiments/chaos-plus.yaml is where fail-open
# shows up).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
DURATION=${DURATION:-60}
BUGS=${BUGS:-all}
PEERS_DIR=${PEERS_DIR:-$HOME/.cache/chaosplus-bench-peers}
CHAOSPLUS=${CHAOSPLUS:-build/bin/chaosplus}
CHAOSPLUS_SCAN=${CHAOSPLUS_SCAN:-$CHAOSPLUS}
BIN=$root/build/bin
tools=("$@")
[ ${#tools[@]} -eq 0 ] && tools=(wapiti sqlmap openapi-fuzzer-core artillery chaosplus)

work=$(mktemp -d /tmp/fuzz-peers.XXXXXX)
pids=()
cleanup() {
  touch "$work/stop"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$work/shop.pid" ] && kill "$(cat "$work/shop.pid")" 2>/dev/null
  wait 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "fuzz_peers: logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

if [ ! -x "$BIN/demo-shop-api" ] || [ ! -x "$BIN/demo-token-service" ]; then
  cmake --build build --target demo-shop-api demo-token-service >/dev/null || exit 1
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
healthy() { curl -s -o /dev/null -m 1 "http://127.0.0.1:$1/health"; }
wait_healthy() { for _ in $(seq 100); do healthy "$1" && return 0; sleep 0.1; done; return 1; }

tokens_port=$(free_port)
"$BIN/demo-token-service" --port "$tokens_port" >"$work/tokens.log" 2>&1 &
pids+=($!)
wait_healthy "$tokens_port" || { echo "fuzz_peers: the token service did not start" >&2; exit 1; }

# The shop, restarted whenever it dies (the crash bug), until $work/stop exists.
start_shop() {  # $1: log file
  rm -f "$work/stop" "$work/shop.pid"
  shop_port=$(free_port)
  base="http://127.0.0.1:$shop_port"
  (
    while [ ! -f "$work/stop" ]; do
      "$BIN/demo-shop-api" --port "$shop_port" --tokens "127.0.0.1:$tokens_port" --tokens-timeout 1s \
        --bug "$BUGS" --files "$work/files" >>"$1" 2>&1 &
      echo $! >"$work/shop.pid"
      wait $!
      sleep 0.2
    done
  ) 2>>"$work/supervisor.log" &  # bash's "Aborted" notes when the crash bug fires
  supervisor=$!
  for _ in $(seq 50); do [ -f "$work/shop.pid" ] && break; sleep 0.1; done
  wait_healthy "$shop_port"
}
stop_shop() {
  touch "$work/stop"
  kill "$(cat "$work/shop.pid")" 2>/dev/null
  wait "$supervisor" 2>/dev/null
}

# Requests the shop handled: each process prints its count when it stops or aborts.
handled() { grep -oE '(stopped by signal [0-9]+|aborting) after [0-9]+ requests' "$1" | grep -oE '[0-9]+ requests' | awk '{s+=$1} END {print s+0}'; }
bugs_hit() { grep -oE '^bug-hit: [a-z0-9-]+' "$1" | sort -u | sed 's/bug-hit: //' | paste -sd, -; }

# Start URLs for the crawlers (the operations with their documented examples).
write_urls() {
  cat >"$work/urls.txt" <<EOF
$base/products?search=desk&limit=5
$base/products/2
$base/orders/1
$base/files?name=shipping.txt
$base/greet?name=Ada&format=html
$base/page?q=lamp
$base/users/me/orders/1
EOF
}

ensure_apt() {  # $1: command, $2: package
  command -v "$1" >/dev/null && return 0
  echo "fuzz_peers: installing $2 (apt-get)..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2") >/dev/null 2>&1
  command -v "$1" >/dev/null
}
ensure_npm() {
  [ -d "$PEERS_DIR/node_modules/openapi-fuzzer-core" ] && [ -x "$PEERS_DIR/node_modules/.bin/artillery" ] &&
    [ -d "$PEERS_DIR/node_modules/artillery-plugin-fuzzer" ] && return 0
  command -v npm >/dev/null || return 1
  echo "fuzz_peers: installing the npm peers into $PEERS_DIR (npm)..." >&2
  mkdir -p "$PEERS_DIR" && cd "$PEERS_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund artillery@2 artillery-plugin-fuzzer \
      openapi-fuzzer-core >"$work/npm.log" 2>&1
  local rc=$?
  cd "$root"
  return $rc
}

run_tool() {  # $1: tool; runs it against $base for DURATION seconds; returns non-zero when it cannot run
  local out="$work/$1"
  mkdir -p "$out"
  write_urls
  case $1 in
    wapiti)
      ensure_apt wapiti wapiti || return 1
      local starts=()
      while read -r u; do starts+=(-s "$u"); done <"$work/urls.txt"
      timeout -k 5 $((DURATION + 10)) wapiti -u "$base/" --scope domain "${starts[@]}" \
        -H "Authorization: Bearer demo-alice" --max-scan-time "$DURATION" --flush-session \
        -f txt -o "$out/report.txt" >"$out/log" 2>&1
      ;;
    sqlmap)
      ensure_apt sqlmap sqlmap || return 1
      timeout -s INT -k 5 "$DURATION" sqlmap -m "$work/urls.txt" --batch --headers "Authorization: Bearer demo-alice" \
        --flush-session --output-dir "$out" --timeout 5 --retries 0 --threads 4 >"$out/log" 2>&1
      ;;
    openapi-fuzzer-core)
      ensure_npm || return 1
      python3 -c 'import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2],"w"))' \
        demo/shop-api.openapi.yaml "$out/doc.json" || return 1
      NODE_PATH="$PEERS_DIR/node_modules" timeout -k 5 $((DURATION + 10)) node bench/peers/openapi_fuzzer_core.js \
        "$out/doc.json" "$base" "$DURATION" "Authorization: Bearer demo-alice" >"$out/log" 2>&1
      ;;
    artillery)
      ensure_npm || return 1
      TARGET=$base DURATION=$DURATION ARTILLERY_PLUGIN_PATH="$PEERS_DIR/node_modules" ARTILLERY_DISABLE_TELEMETRY=true \
        timeout -k 5 $((DURATION + 30)) "$PEERS_DIR/node_modules/.bin/artillery" run --quiet \
        bench/peers/artillery-fuzz.yaml >"$out/log" 2>&1
      ;;
    chaosplus)
      "$CHAOSPLUS" fuzz --help >/dev/null 2>&1 || { echo "  ($CHAOSPLUS has no fuzz command yet)" >&2; return 1; }
      local scan=1
      "$CHAOSPLUS_SCAN" scan --help >/dev/null 2>&1 || { scan=0; echo "  ($CHAOSPLUS_SCAN has no scan command yet: fuzz only)" >&2; }
      "$CHAOSPLUS" fuzz --openapi demo/shop-api.openapi.yaml --base-url "$base" --duration "${DURATION}s" \
        -H "Authorization: Bearer demo-alice" --pid "$(cat "$work/shop.pid")" --findings "$out/fuzz.json" -q \
        >"$out/fuzz.log" 2>&1 &
      local fuzz=$!
      if [ $scan -eq 1 ]; then
        "$CHAOSPLUS_SCAN" scan --openapi demo/shop-api.openapi.yaml --base-url "$base" \
          --user alice='Authorization: Bearer demo-alice' --user bob='Authorization: Bearer demo-bob' \
          --duration "${DURATION}s" --findings "$out/scan.json" >"$out/scan.log" 2>&1
      fi
      wait $fuzz
      ;;
    *) echo "fuzz_peers: unknown tool '$1'" >&2; return 1 ;;
  esac
  return 0
}

printf 'fuzz_peers: %ss per tool, shop --bug %s, load average %s\n\n' "$DURATION" "$BUGS" "$(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for tool in "${tools[@]}"; do
  echo "== $tool"
  log="$work/shop-$tool.log"
  : >"$log"
  start_shop "$log" || { echo "  the shop did not start" >&2; stop_shop; continue; }
  started=$(date +%s.%N)
  if ! run_tool "$tool"; then
    stop_shop
    echo "  $tool could not be installed or run here; skipped (see above)"
    results+=("$(printf '%-20s %s' "$tool" "not run")")
    continue
  fi
  elapsed=$(echo "$(date +%s.%N) - $started" | bc)
  stop_shop
  hits=$(bugs_hit "$log")
  n=$(echo "$hits" | tr ',' '\n' | grep -c .)
  requests=$(handled "$log")
  restarts=$(grep -c '^listening on' "$log")
  rate=$(echo "scale=0; $requests / $elapsed" | bc)
  echo "  bugs triggered ($n): ${hits:-none}"
  echo "  requests handled: $requests in ${elapsed%.*}s ($rate/s); shop processes: $restarts"
  if [ "$tool" = chaosplus ]; then
    files=()
    for f in "$work/chaosplus/fuzz.json" "$work/chaosplus/scan.json"; do [ -f "$f" ] && files+=("$f"); done
    if [ ${#files[@]} -gt 0 ]; then
      python3 bench/peers/map_findings.py "${files[@]}" | sed 's/^/  /' | tee "$work/mapped.txt"
      found=$(grep -oE '^  mapped: [0-9]+' "$work/mapped.txt" | grep -oE '[0-9]+')
      results+=("$(printf '%-20s %3s %10s %8s/s   findings mapped to %s bugs' "$tool" "$n" "$requests" "$rate" "${found:-0}")")
      continue
    fi
  fi
  results+=("$(printf '%-20s %3s %10s %8s/s' "$tool" "$n" "$requests" "$rate")")
done

echo
printf '%-20s %3s %10s %10s\n' tool bugs requests rate
for line in "${results[@]}"; do echo "$line"; done
echo "(bugs: distinct bug-hit names the shop printed: triggering, not the tool's own detection)"
