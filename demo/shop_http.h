#pragma once
// Small pieces every part of demo-shop-api answers with: JSON, text and HTML responses with the
// headers a careful service sends, HTML escaping, and strict integer parsing for parameters.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "net/http_message.h"

namespace chaosplus::demo {

net::Response json_response(int status, const nlohmann::json& body);
net::Response text_response(int status, std::string body);  // text/plain; charset=utf-8
// text/html; charset=utf-8 with a Content-Security-Policy that allows nothing to load or frame it,
// and X-Frame-Options: DENY.
net::Response html_response(int status, std::string body);

// Headers on every answer: X-Content-Type-Options: nosniff and Cache-Control: no-store (answers may
// carry a user's data; none is meant for shared caches).
void add_common_headers(net::Response& response);

// & < > " ' as entities.
std::string html_escape(std::string_view text);

// "42", "-7" -> the number; anything else (empty, "+1", "1.5", "0x1", out of range) -> nullopt.
std::optional<long long> parse_integer(std::string_view text);

// Whether the query string names `name` at all (query_param cannot tell absent from empty).
bool has_query_param(const net::Request& request, std::string_view name);

}  // namespace chaosplus::demo
