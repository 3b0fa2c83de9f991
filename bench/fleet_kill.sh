#!/bin/sh
# kill -9 of the controller while faults are on 3 agents (issue 15): ROUNDS times (default 100), in one
# lab of hosts (scripts/lab.sh, prefix cplbench: network namespaces, 3 etcd members, 3 agents), a
# `chaosplus run` in node 0 pauses a process on each of node-1..3 and is killed at a random moment
# (uniform over 0-3 s after all three faults are on, drawn from SEED); the agents must revert on their
# own once the run lease expires. Per round: the time from the kill to the last agent's revert (the
# `at_unix_ms` of the agents' FaultStatus keys in etcd; the same host's clock); then min/median/p95/max
# and how many rounds exceeded the run lease's TTL + 1 s (the bar: none).
#   bench/fleet_kill.sh [ROUNDS] [SEED]     (default 100 rounds, a random seed)
# TTL=3s sets the run lease's TTL (`run --lease-ttl`; default the controller's, 5 s).
# Needs root, ip and Debian's etcd-server. The driver is the fleet lab test's (tests/integration/
# fleet_lab_test.cpp, FleetLab.DISABLED_KillRounds). BUILD=path/to/build overrides the build folder.
# The full output is kept in $LOG (default /tmp/fleet_kill-<seed>.log).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${1:-100}
SEED=${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
BUILD=${BUILD:-$HERE/../build}
TEST=$BUILD/bin/integration_fleet_lab_test
LOG=${LOG:-/tmp/fleet_kill-$SEED.log}
[ -x "$TEST" ] || { echo "no $TEST: build first (scripts/build.sh)" >&2; exit 3; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 3; }
echo "fleet kill: $ROUNDS rounds, seed $SEED, lease TTL ${TTL:-default}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
status=0
: >"$LOG" # before tail follows it
CHAOSPLUS_FLEET_ROUNDS=$ROUNDS CHAOSPLUS_FLEET_SEED=$SEED CHAOSPLUS_FLEET_TTL=${TTL:-} "$TEST" --gtest_also_run_disabled_tests \
  --gtest_filter='FleetLab.DISABLED_KillRounds' >"$LOG" 2>&1 &
pid=$!
tail -n +1 -f "$LOG" --pid=$pid | grep --line-buffered -E '^\[ (seed|round [0-9]+) \]' | cut -c1-200 || true
wait $pid || status=$?
echo
echo "== summary (full output: $LOG; $(($(date +%s) - start)) s, load average $(cut -d' ' -f1-3 /proc/loadavg))"
if grep -q '^\[ summary  \]' "$LOG"; then
  sed -n '/^\[ summary  \]/,/rounds failed$/p' "$LOG" | tail -n +2
else
  echo "the rounds did not finish; the last lines:"
  tail -n 30 "$LOG"
fi
exit $status
