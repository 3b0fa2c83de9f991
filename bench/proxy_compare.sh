#!/bin/sh
# chaosplus proxy (no toxic) vs a direct connection vs haproxy (TCP mode, 1 thread) on loopback, in
# one run: added round-trip latency p50/p99, bulk throughput as a share of direct, 10,000
# connections held, and the accuracy of a `latency 100ms` toxic. Prints figures, ratios and bars.
#   bench/proxy_compare.sh [--rounds 5] [--hold 10000] [--skip rtt,fresh,bulk,toxic,hold] [--json out.json]
# CHAOSPLUS=path/to/chaosplus picks the binary (default build/bin/chaosplus); the load program is
# build/bin/chaosplus-proxy-bench (-DCHAOSPLUS_BENCH=ON) or PROXY_BENCH=..., else compiled on the fly.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/nginx_lib.sh"  # install_peers
install_peers haproxy
exec python3 "$HERE/proxy_compare.py" "$@"
