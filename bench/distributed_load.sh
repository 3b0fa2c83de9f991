#!/bin/sh
# Distributed load (issue 15's bar: 4 generators at a total 40,000 req/s, the merged p99 equals the
# p99 of all samples pooled, and a guardrail on the merged figures stops all four together).
# ROUNDS times (default 3) each: the integration test's two cases on loopback (a real etcd, four
# `chaosplus agent` processes, nginx with two workers, the controller's DistributedLoad in the test
# process; tests/integration/distributed_load_test.cpp). Prints per round the achieved rate, the
# merged and the independently pooled p99, and how long after the guardrail's halt each generator
# stopped.
#   bench/distributed_load.sh [ROUNDS]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${1:-3}
BUILD=${BUILD:-$HERE/../build}
cmake --build "$BUILD" --target integration_distributed_load_test chaosplus -j2 >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
i=1
while [ "$i" -le "$ROUNDS" ]; do
  out=$("$BUILD/bin/integration_distributed_load_test" 2>&1) || { echo "$out" | tail -40; exit 1; }
  echo "== round $i"
  echo "$out" | awk '
    /\[ figures  \] merged:/ { sub(/.*merged: /, ""); print "  merged:  " $0 }
    /\[ figures  \] halted/ { split($0, a, "halted "); split(a[2], b, " s after"); halt = b[1]; print "  halted " halt " s after the start" }
    /\[ figures  \] gen-[0-9]: ran/ { split($0, a, "ran "); split(a[2], b, " s,"); name = $4; sub(/:$/, "", name); printf "  %s stopped %.0f ms after the halt\n", name, (b[1] - halt) * 1000 }'
  i=$((i + 1))
done
