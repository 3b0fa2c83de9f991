#include "core/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <cstring>
#include <optional>

namespace chaosplus {
namespace {

// The address in IPv6 form (IPv4 as ::ffff:a.b.c.d), so that one test covers both families.
using Bytes = std::array<unsigned char, 16>;

constexpr std::array<unsigned char, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

Bytes mapped(const in_addr& v4) {
  Bytes b{};
  std::memcpy(b.data(), kMappedPrefix.data(), kMappedPrefix.size());
  std::memcpy(b.data() + 12, &v4, 4);
  return b;
}

std::optional<Bytes> parse_ip(std::string_view text) {
  // inet_pton wants a NUL-terminated string; the longest IPv6 text is 45 characters.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  char buffer[INET6_ADDRSTRLEN] = {};
  std::memcpy(buffer, text.data(), text.size());
  in_addr v4{};
  if (::inet_pton(AF_INET, buffer, &v4) == 1) return mapped(v4);
  Bytes v6{};
  if (::inet_pton(AF_INET6, buffer, v6.data()) == 1) return v6;
  return std::nullopt;
}

bool is_mapped(const Bytes& b) { return std::memcmp(b.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0; }

// How many leading bits of `b` are fixed by loopback: 128 for ::1, 104 for ::ffff:127.0.0.0/104
// (IPv4's 127.0.0.0/8); 0 if `b` is not loopback.
int loopback_prefix(const Bytes& b) {
  if (is_mapped(b)) return b[12] == 127 ? 96 + 8 : 0;
  static constexpr Bytes kV6Loopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return b == kV6Loopback ? 128 : 0;
}

}  // namespace

bool is_localhost_name(std::string_view host) {
  constexpr std::string_view kName = "localhost";
  if (host.size() != kName.size()) return false;
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = host[i] >= 'A' && host[i] <= 'Z' ? static_cast<char>(host[i] - 'A' + 'a') : host[i];
    if (c != kName[i]) return false;
  }
  return true;
}

bool is_ip_literal(std::string_view text) { return parse_ip(text).has_value(); }

bool is_loopback_host(std::string_view host) {
  if (is_localhost_name(host)) return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) return false;  // brackets are for IPv6 only
  }
  const auto ip = parse_ip(host);
  return ip && loopback_prefix(*ip) > 0;
}

bool is_loopback_address(std::string_view address) {
  const auto slash = address.find('/');
  const auto ip = parse_ip(address.substr(0, slash));
  if (!ip) return false;
  const int fixed = loopback_prefix(*ip);
  if (fixed == 0) return false;
  if (slash == std::string_view::npos) return true;
  // A network is loopback if its prefix is at least as long as loopback's own.
  const bool v4 = address.substr(0, slash).find(':') == std::string_view::npos;
  const std::string_view len_text = address.substr(slash + 1);
  int len = -1;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size()) return false;
  if (len < 0 || len > (v4 ? 32 : 128)) return false;
  return (v4 ? len + 96 : len) >= fixed;
}

bool is_loopback_address(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return loopback_prefix(mapped(reinterpret_cast<const sockaddr_in*>(&address)->sin_addr)) > 0;
  }
  if (address.ss_family == AF_INET6) {
    Bytes b{};
    std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, b.size());
    return loopback_prefix(b) > 0;
  }
  return false;
}

}  // namespace chaosplus
