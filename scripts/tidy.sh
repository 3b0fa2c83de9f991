#!/usr/bin/env bash
# Runs clang-tidy (checks in .clang-tidy) over every .cpp under src/, with the compile commands of
# build/ (scripts/build.sh makes them). Arguments narrow the files: scripts/tidy.sh src/proxy
# Exits non-zero on any finding. Not part of CI: it takes longer than the build on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/compile_commands.json ]; then
  echo "tidy: build/compile_commands.json is missing; run scripts/build.sh first" >&2
  exit 2
fi
tidy=$(command -v clang-tidy-14 || command -v clang-tidy)
jobs=$(nproc 2>/dev/null || echo 2)
if [ "$#" -eq 0 ]; then set -- src; fi
mapfile -t files < <(find "$@" -name '*.cpp' | sort)
started=$(date +%s)
status=0
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -n 4 "$tidy" -p build --quiet || status=$?
echo "tidy: ${#files[@]} files in $(($(date +%s) - started)) s"
exit "$status"
