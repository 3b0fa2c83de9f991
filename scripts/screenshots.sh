#!/bin/sh
# Regenerates the screenshots under docs/ from the browser tests: docs/report-screenshot.png (the HTML
# report of a real run of experiments/shop-under-load.yaml, opened offline in headless Chromium) and
# docs/dashboard-screenshot.png (the dashboard after HALT). Builds the two tests first.
#   scripts/screenshots.sh
set -eu
cd "$(dirname "$0")/.."
scripts/build.sh --target integration_browser_report_test integration_browser_dashboard_test >/dev/null
CHAOSPLUS_SCREENSHOTS="$PWD/docs" build/bin/integration_browser_report_test
CHAOSPLUS_SCREENSHOTS="$PWD/docs" build/bin/integration_browser_dashboard_test
ls -l docs/*-screenshot.png
