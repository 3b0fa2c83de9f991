#pragma once
// The HTML report's own script (report_page.js: the timeline drawn with Chart.js) and style
// (report_page.css), compiled in at build time like the chart library.
#include <string_view>

namespace chaosplus::report {

std::string_view report_page_script();
std::string_view report_page_style();

}  // namespace chaosplus::report
