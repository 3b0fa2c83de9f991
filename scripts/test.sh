#!/usr/bin/env bash
# Installs, builds, and runs every test (unit and integration) with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/format.sh --check
scripts/build.sh
cd build
ctest --output-on-failure -j 2 --timeout 300 "$@"
