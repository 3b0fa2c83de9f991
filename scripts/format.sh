#!/usr/bin/env bash
# Formats every C++ file of the repository with .clang-format; `--check` only reports files that
# differ (exit 1), as CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [[ "${1:-}" == "--check" ]]; then
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
      echo "not formatted: $f (run scripts/format.sh)"
      bad=1
    fi
  done
  exit "$bad"
fi
clang-format -i "${files[@]}"
