#pragma once
// http:// and https:// URLs as the probes, the proxy API and the demo write them.
#include <string>
#include <string_view>

#include "core/result.h"

namespace chaosplus::net {

struct Url {
  std::string scheme;        // "http" or "https", lower case
  std::string host;          // without brackets for IPv6 literals ("::1")
  int port = 0;              // explicit or the scheme's default (80, 443)
  std::string target = "/";  // path and query, always starting with '/'

  // "http://127.0.0.1:8080/x?y", "http://[::1]:80/", "https://example.com"; errors say what is wrong.
  static Result<Url> parse(std::string_view text);
  std::string authority() const;  // "host:port" (port always present), IPv6 in brackets: "[::1]:80"
  std::string to_string() const;  // scheme://authority/target
};

}  // namespace chaosplus::net
