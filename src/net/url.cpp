#include "net/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "net/http_message.h"

namespace chaosplus::net {

namespace {
int default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }
}  // namespace

Result<Url> Url::parse(std::string_view text) {
  const std::string quoted = "'" + std::string(text.substr(0, 200)) + "'";
  if (std::any_of(text.begin(), text.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      })) {
    return Error{"invalid URL " + quoted + ": contains a space or control character"};
  }
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return Error{"invalid URL " + quoted + ": expected http://host[:port][/path]"};
  Url url;
  url.scheme = std::string(text.substr(0, sep));
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  if (url.scheme != "http" && url.scheme != "https") {
    return Error{"invalid URL " + quoted + ": scheme must be http or https"};
  }
  auto rest = text.substr(sep + 3);
  auto authority_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, authority_end);
  auto target = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return Error{"invalid URL " + quoted + ": user info (user@host) is not supported"};
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return Error{"invalid URL " + quoted + ": missing ']' after IPv6 address"};
    url.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Error{"invalid URL " + quoted + ": unexpected text after ']'"};
      port_text = after.substr(1);
      if (port_text.empty()) return Error{"invalid URL " + quoted + ": empty port"};
    }
    if (url.host.empty() || url.host.find(':') == std::string::npos) {
      return Error{"invalid URL " + quoted + ": brackets must hold an IPv6 address"};
    }
  } else {
    auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Error{"invalid URL " + quoted + ": empty port"};
    }
  }
  if (url.host.empty()) return Error{"invalid URL " + quoted + ": missing host"};

  if (port_text.empty()) {
    url.port = default_port(url.scheme);
  } else {
    int port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 || port > 65535) {
      return Error{"invalid URL " + quoted + ": port must be a number from 1 to 65535"};
    }
    url.port = port;
  }

  target = target.substr(0, target.find('#'));  // fragments never go on the wire
  if (target.empty()) {
    url.target = "/";
  } else if (target.front() == '?') {
    url.target = "/" + std::string(target);
  } else {
    url.target = std::string(target);
  }
  return url;
}

std::string Url::authority() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::to_string() const { return scheme + "://" + authority() + target; }

}  // namespace chaosplus::net
