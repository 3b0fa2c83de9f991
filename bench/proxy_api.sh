#!/bin/sh
# The fault proxy's control API under abuse and at scale (issue #8), on loopback:
#   (a) 2,000 idle connections held, then the time an authenticated client takes to change a toxic;
#   (b) 1,000,000-deep JSON bodies to every JSON route: the answers, and the proxy still serving;
#   (c) 18,000 proxies created through the API: the time per batch of 2,000.
#   bench/proxy_api.sh [--idle 2000] [--rounds 5] [--proxies 18000] [--batch 2000] [--skip idle,deep,create]
# CHAOSPLUS=path picks the binary (default build/bin/chaosplus; an older build gives "before" figures).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
exec python3 "$HERE/proxy_api.py" --batch 2000 "$@"
