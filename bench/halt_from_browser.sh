#!/bin/sh
# HALT pressed in the browser (issue 14's bar: faults reverted within 1 s). ROUNDS times (default 5):
# a fresh `chaosplus server` on a free loopback port with its own state folder, store and token, the
# dashboard in headless Chromium (/usr/bin/chromium, our DevTools driver in tests/support), the
# quickstart (moved to free ports) started with the page's button, HALT clicked once the live
# charts grow and a fault is on. Measured from the click: every fault of the run reverted in the
# ledger (polled every 2 ms), every ledger entry of the run reverted (its targets stopped too), and
# the journal's run.halted and last fault.reverted times. Prints each round, min/median/max, and
# whether every round is within 1 s.
#   bench/halt_from_browser.sh [ROUNDS]
# FAULT=kill presses HALT once the quickstart's token service is killed (the revert restarts it and
# waits for its ready check) instead of under its first fault (the proxy's latency toxic).
# CHAOSPLUS=path/to/chaosplus picks the build (its folder holds the demo services); the bench
# program (chaosplus-halt-bench, bench/halt_bench.cpp) is built there with -DCHAOSPLUS_BENCH=ON.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${1:-5}
CHAOSPLUS=${CHAOSPLUS:-$HERE/../build/bin/chaosplus}
[ -x /usr/bin/chromium ] || { echo "no /usr/bin/chromium (scripts/setup.sh installs it)" >&2; exit 3; }
[ -x "$CHAOSPLUS" ] || { echo "no chaosplus binary at $CHAOSPLUS (set CHAOSPLUS=...)" >&2; exit 3; }
BIN=$(cd "$(dirname "$CHAOSPLUS")" && pwd)
build=$(cd "$BIN/.." && pwd)
# Built every time (a no-op when up to date): the bench shares its flow with the tests' support code.
echo "building chaosplus-halt-bench in $build" >&2
cmake -S "$HERE/.." -B "$build" -DCHAOSPLUS_BENCH=ON >/dev/null
cmake --build "$build" --target chaosplus-halt-bench chaosplus demo-shop-api demo-token-service -j2 >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); chromium: $(/usr/bin/chromium --version 2>/dev/null)"
case ${FAULT:-} in
  "") KIND= ;;
  latency) KIND=proxy.toxic ;;
  kill) KIND=process.killed ;;
  *) echo "FAULT=latency or FAULT=kill" >&2; exit 3 ;;
esac
exec "$BIN/chaosplus-halt-bench" "$ROUNDS" $KIND
