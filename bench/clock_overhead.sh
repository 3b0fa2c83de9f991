#!/bin/sh
# What libfaketime costs a target that reads the wall clock often: a loop of N (default 1000000)
# clock_gettime(CLOCK_REALTIME) calls, timed with the monotonic clock, run plainly and under the
# settings the clock fault could start a target with (docs/faults.md, "Clock faults"): libfaketime's
# thread-safe build reading its file at most once a second (what the fault uses), on every call
# (FAKETIME_NO_CACHE=1), and the single-threaded build for comparison. Prints nanoseconds per call.
#   bench/clock_overhead.sh [N]
set -eu
N=${1:-1000000}
LIB_DIR=""
for d in /usr/lib/*/faketime /usr/lib64/faketime /usr/lib/faketime /usr/local/lib/faketime; do
  [ -e "$d/libfaketimeMT.so.1" ] && { LIB_DIR=$d; break; }
done
[ -n "$LIB_DIR" ] || { echo "libfaketime is not installed (apt-get install libfaketime)" >&2; exit 3; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/loop.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char** argv) {
  const long n = atol(argv[1]);
  struct timespec a, b, r;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) clock_gettime(CLOCK_REALTIME, &r);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.0f ns/call\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
  return 0;
}
C
cc -O2 -o "$WORK/loop" "$WORK/loop.c"
echo "+3600 x1" > "$WORK/setting"
export FAKETIME_TIMESTAMP_FILE="$WORK/setting" FAKETIME_DONT_FAKE_MONOTONIC=1
printf '%-48s' "without libfaketime:"; "$WORK/loop" "$N"
printf '%-48s' "libfaketimeMT, file read once a second:"
FAKETIME_CACHE_DURATION=1 LD_PRELOAD=$LIB_DIR/libfaketimeMT.so.1 "$WORK/loop" "$N"
printf '%-48s' "libfaketimeMT, file read on every call:"
FAKETIME_NO_CACHE=1 LD_PRELOAD=$LIB_DIR/libfaketimeMT.so.1 "$WORK/loop" "$N"
printf '%-48s' "libfaketime (single-threaded), once a second:"
FAKETIME_CACHE_DURATION=1 LD_PRELOAD=$LIB_DIR/libfaketime.so.1 "$WORK/loop" "$N"
printf '%-48s' "libfaketime (single-threaded), every call:"
FAKETIME_NO_CACHE=1 LD_PRELOAD=$LIB_DIR/libfaketime.so.1 "$WORK/loop" "$N"
