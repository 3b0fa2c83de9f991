#pragma once
// Header-field helpers shared by net's messages (http_message.cpp) and parsers (http_parser.cpp).
#include <string_view>
#include <vector>

#include "net/http_message.h"

namespace chaosplus::net {

// Without leading and trailing spaces and tabs (RFC 9110 OWS).
std::string_view trim_ows(std::string_view s);
// Whether a header of that name (case-insensitive) is present.
bool contains_header(const std::vector<Header>& headers, std::string_view name);

// Calls `fn` for every comma-separated element of every header named `name`, trimmed, non-empty.
template <typename Fn>
void for_each_list_element(const std::vector<Header>& headers, std::string_view name, Fn fn) {
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    std::string_view rest = h.value;
    while (true) {
      auto comma = rest.find(',');
      auto element = trim_ows(rest.substr(0, comma));
      if (!element.empty()) fn(element);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
}

}  // namespace chaosplus::net
