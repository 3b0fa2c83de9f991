#pragma once
// One HTTP/1.1 request per fresh connection, bounded in time end to end. Probes and the demo use
// it; the load engine has its own hot-path client.
#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/units.h"
#include "net/http_message.h"
#include "net/url.h"

namespace chaosplus::net {

// One request on a fresh connection (Connection: close), whole exchange bounded by `timeout`.
// Fills Host and Content-Length. Error messages say what failed: "connect to 127.0.0.1:9 refused",
// "timed out after 2s waiting for response headers from ...", "malformed response: ...".
// https URLs are refused with a clear error (no TLS here yet).
Result<Response> fetch(const Url& url, Request request, Duration timeout);
Result<Response> fetch(std::string_view method, std::string_view url, std::string body = {},
                       Duration timeout = std::chrono::seconds(5));

}  // namespace chaosplus::net
