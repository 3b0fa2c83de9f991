#include "spec/address.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstring>

#include "spec/loader.h"

namespace chaosplus::spec {
namespace {

bool is_ipv4(const std::string& host) {
  in_addr addr{};
  return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr addr{};
  return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

// Letters, digits, '-' in dot-separated labels of 1-63 characters.
bool is_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (++label > 63) return false;
  }
  return label > 0;
}

Result<int> parse_port(std::string_view text, std::string_view whole) {
  int port = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  bool digits_only = !text.empty();
  for (char c : text) digits_only = digits_only && std::isdigit(static_cast<unsigned char>(c));
  if (!digits_only || ec != std::errc{} || ptr != text.data() + text.size() || port < 1 || port > 65535) {
    return Error{"'" + std::string(whole) + "' has port '" + std::string(text) +
                 "', expected a number from 1 to 65535"};
  }
  return port;
}

// Splits "host:port" / "[v6]:port" / "host" (port optional when default_port > 0).
Result<Endpoint> split_host_port(std::string_view text, std::string_view whole, int default_port) {
  const std::string example = "(expected host:port, e.g. 127.0.0.1:8080, [::1]:8080, localhost:8080)";
  std::string host;
  std::string_view rest;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return Error{"'" + std::string(whole) + "' has an unclosed '[' " + example};
    host = std::string(text.substr(1, close - 1));
    if (!is_ipv6(host))
      return Error{"'" + std::string(whole) + "' has '" + host +
                   "' in brackets, expected an IPv6 address such as [::1]:8080"};
    rest = text.substr(close + 1);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) {
      return Error{"'" + std::string(whole) + "' looks like an IPv6 address without brackets " + example};
    }
    host = std::string(text.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    if (host.empty()) return Error{"'" + std::string(whole) + "' has no host " + example};
    if (!is_ipv4(host) && !is_hostname(host)) {
      return Error{"'" + std::string(whole) + "' has host '" + host + "', which is not an IPv4 address or host name " +
                   example};
    }
  }
  Endpoint endpoint;
  endpoint.host = host;
  if (rest.empty()) {
    if (default_port == 0) return Error{"'" + std::string(whole) + "' has no port " + example};
    endpoint.port = default_port;
    return endpoint;
  }
  if (rest.front() != ':') return Error{"'" + std::string(whole) + "' is not an address " + example};
  auto port = parse_port(rest.substr(1), whole);
  if (!port) return Error{port.error()};
  endpoint.port = *port;
  return endpoint;
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view text) {
  if (text.empty()) return Error{"'' is not an address (expected host:port, e.g. 127.0.0.1:8080)"};
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/') {
      return Error{"'" + std::string(text) +
                   "' is not an address (expected host:port, e.g. 127.0.0.1:8080, without scheme or path)"};
    }
  }
  return split_host_port(text, text, 0);
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  const std::string what = "'" + std::string(url) + "' is not an http URL (expected e.g. http://127.0.0.1:8080/health)";
  HttpUrl out;
  std::string_view rest;
  if (url.starts_with("http://")) {
    out.scheme = "http";
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    out.scheme = "https";
    rest = url.substr(8);
  } else {
    return Error{what};
  }
  for (char c : url) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) return Error{what};
  }
  const std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return Error{"'" + std::string(url) + "' has user info before the host, which is not supported"};
  }
  if (authority.empty()) return Error{what};
  auto endpoint = split_host_port(authority, url, out.scheme == "http" ? 80 : 443);
  if (!endpoint) return Error{endpoint.error()};
  out.endpoint = *endpoint;
  if (const std::size_t hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  out.target = target.empty() ? "/" : std::string(target);
  if (out.target.front() == '?') out.target = "/" + out.target;
  return out;
}

}  // namespace chaosplus::spec
