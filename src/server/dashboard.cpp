// GET / (the dashboard page) and GET /assets/chart.js (Chart.js, from the binary: no CDN).
#include "server/dashboard.h"

#include "report/chart_script.h"
#include "server/state.h"

namespace chaosplus::server {

net::Response handle_dashboard(const net::Request& request, std::string& route) {
  const std::string path = request.path();
  const bool get = request.method == "GET" || request.method == "HEAD";
  net::Response response;
  if (path == "/" || path == "/index.html") {
    route = "/";
    if (!get) return error_json(405, "method " + request.method + " is not allowed on " + path + " (only GET)");
    response.body = std::string(dashboard_page());
    response.headers = {{"Content-Type", "text/html; charset=utf-8"},
                        {"Cache-Control", "no-store"},
                        // Only our own page's code and the chart script run; nothing is fetched elsewhere.
                        {"Content-Security-Policy",
                         "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                         "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"},
                        {"X-Content-Type-Options", "nosniff"},
                        {"Referrer-Policy", "no-referrer"}};
    return response;
  }
  if (path == "/assets/chart.js") {
    route = "/assets/chart.js";
    if (!get) return error_json(405, "method " + request.method + " is not allowed on " + path + " (only GET)");
    response.body = std::string(report::chart_script());
    response.headers = {{"Content-Type", "text/javascript; charset=utf-8"},
                        {"Cache-Control", "max-age=3600"},
                        {"X-Content-Type-Options", "nosniff"}};
    return response;
  }
  route = "unknown";
  return error_json(404, "no such page: " + path + " (the dashboard is at /, the API under /api/)");
}

}  // namespace chaosplus::server
