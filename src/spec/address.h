#pragma once
// Addresses written in experiment files: "host:port" endpoints (see spec/loader.h parse_endpoint)
// and http(s) URLs, split into the parts the probes and the loopback rule need.
#include <string>
#include <string_view>

#include "core/result.h"
#include "spec/experiment.h"

namespace chaosplus::spec {

struct HttpUrl {
  std::string scheme;  // "http" or "https"
  Endpoint endpoint;   // port defaults to 80 / 443
  std::string target;  // path and query, "/" when absent; no fragment
};

// "http://127.0.0.1:8080/health?x=1", "https://[::1]/". No user info, no other schemes.
Result<HttpUrl> parse_http_url(std::string_view url);

}  // namespace chaosplus::spec
