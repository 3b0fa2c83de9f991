#!/bin/sh
# The long crash test matrix (issue #8): POINTS kill -9 points of `chaosplus run` on an experiment
# with a paused attached process, a started service behind the fault proxy with a latency toxic, a
# kernel reject, a tbf bandwidth limit, a corrupt, the host faults of issue 13 (cpu, memory,
# disk_fill on a tmpfs, revoke, credential hide, lock_account of a throwaway account; clock, dns and
# io_error on the started service) and two rollbacks, each followed by one `chaosplus recover`,
# then a check that nothing is left and that the ledger says so. The points: every event point
# (after each fault.injected and fault.reverted, inside and between the rollbacks, ...) with delay
# variants, start-up points over the first 30 ms, the rest random over a whole run.
#   bench/crash_matrix.sh [POINTS] [SEED]     (default 200 points, a random seed)
# Needs root and nft, tc, ip, stress-ng, useradd, setfacl, setfattr, fuse3, libfaketime. The driver is the CI test's (tests/support/crash_matrix.h): this
# plays its long variant. BUILD=path/to/build overrides the build folder. Prints every point as it
# goes, then every point where something was left, counts per kind, and "N points, M left
# something" last; the full output is kept in $LOG (default /tmp/crash_matrix-<seed>.log).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
POINTS=${1:-200}
SEED=${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
BUILD=${BUILD:-$HERE/../build}
TEST=$BUILD/bin/integration_crash_matrix_test
LOG=${LOG:-/tmp/crash_matrix-$SEED.log}
[ -x "$TEST" ] || { echo "no $TEST: build first (scripts/build.sh)" >&2; exit 3; }
[ "$(id -u)" = 0 ] || { echo "needs root (nft, tc and ip change the kernel's state)" >&2; exit 3; }
echo "crash matrix: $POINTS points, seed $SEED, load average $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
status=0
CHAOSPLUS_CRASH_POINTS=$POINTS CHAOSPLUS_CRASH_SEED=$SEED "$TEST" --gtest_also_run_disabled_tests \
  --gtest_filter='CrashMatrix.DISABLED_Long' >"$LOG" 2>&1 &
pid=$!
# Progress: one line per point (the details of a point that left something follow in the summary).
tail -n +1 -f "$LOG" --pid=$pid | grep --line-buffered -E '^\[ (baseline|seed|point [0-9]+) \]' | cut -c1-200 || true
wait $pid || status=$?
echo
echo "== summary (full output: $LOG; $(($(date +%s) - start)) s, load average $(cut -d' ' -f1-3 /proc/loadavg))"
if grep -q '^\[ summary  \]' "$LOG"; then
  sed -n '/^\[ summary  \]/,/points, .* left something$/p' "$LOG" | tail -n +2
else
  echo "the matrix did not finish; its last lines:"
  tail -n 30 "$LOG"
fi
exit $status
