#pragma once
// The chart library (Chart.js, from npm: web/package.json) that HTML reports and the dashboard
// carry inline, so they draw offline with no CDN. Compiled into the binary at build time.
#include <string_view>

namespace chaosplus::report {

std::string_view chart_script();

}  // namespace chaosplus::report
