#!/usr/bin/env bash
# Installs, builds, and runs experiments/quickstart.yaml against the bundled demo shop: its token
# service gets slow, then dies; a guardrail aborts the run, everything is put back, and the shop
# recovers. Prints the verdict and where the journal is, and writes the run's HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "quickstart: building (the first build takes a few minutes)..."
scripts/build.sh --target chaosplus demo-shop-api demo-token-service >/dev/null
stamp=$(date -u +%Y%m%dT%H%M%SZ)-$$
journal=runs/quickstart-$stamp.jsonl
set +e
build/bin/chaosplus run experiments/quickstart.yaml --journal "$journal"
code=$?
set -e
case $code in
  0) echo "quickstart: the hypothesis held (exit code 0)." ;;
  1) echo "quickstart: the hypothesis deviated (exit code 1): the experiment found a weakness, see above." ;;
  2) echo "quickstart: the run was aborted (exit code 2) and rolled back, as this experiment expects when the token service dies." ;;
  *) echo "quickstart: the run failed with an error (exit code $code)." >&2; exit "$code" ;;
esac
echo "quickstart: every event of the run is in the journal named above (one JSON object per line),"
echo "quickstart: and in the results store: build/bin/chaosplus history lists the runs."
# The report's exit code is the run's verdict again; only a failure to write the report matters here.
set +e
build/bin/chaosplus report "$journal" --html "runs/quickstart-$stamp.html" >/dev/null
report_code=$?
set -e
if [ -f "runs/quickstart-$stamp.html" ]; then
  echo "quickstart: the HTML report (charts, faults, checks; opens offline) is runs/quickstart-$stamp.html"
else
  echo "quickstart: the HTML report could not be written (exit code $report_code)" >&2
  exit 3
fi
