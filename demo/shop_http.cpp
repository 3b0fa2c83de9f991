#include "shop_http.h"

#include <charconv>

namespace chaosplus::demo {

net::Response json_response(int status, const nlohmann::json& body) {
  return net::Response::json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

net::Response text_response(int status, std::string body) {
  net::Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  r.body = std::move(body);
  return r;
}

net::Response html_response(int status, std::string body) {
  net::Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "text/html; charset=utf-8"});
  r.headers.push_back({"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"});
  r.headers.push_back({"X-Frame-Options", "DENY"});
  r.body = std::move(body);
  return r;
}

void add_common_headers(net::Response& response) {
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Cache-Control", "no-store");
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::optional<long long> parse_integer(std::string_view text) {
  if (text.empty() || text.front() == '+') return std::nullopt;
  long long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

bool has_query_param(const net::Request& request, std::string_view name) {
  const auto q = request.target.find('?');
  if (q == std::string::npos) return false;
  std::string_view query(request.target);
  query.remove_prefix(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const std::string key = net::percent_decode(pair.substr(0, pair.find('=')));
    if (key == name) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

}  // namespace chaosplus::demo
