#pragma once
// The dashboard page (src/server/dashboard/index.html), compiled into the binary at build time.
#include <string_view>

namespace chaosplus::server {

std::string_view dashboard_page();

}  // namespace chaosplus::server
