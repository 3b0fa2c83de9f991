#include "spec/kernel_params.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace chaosplus::spec {
namespace {

bool name_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

}  // namespace

bool is_project_namespace(std::string_view name) {
  if (!name.starts_with(kProjectNamespacePrefix)) return false;
  std::string_view rest = name.substr(kProjectNamespacePrefix.size());
  return !rest.empty() && rest.size() <= 48 && name_chars(rest);
}

bool is_valid_interface_name(std::string_view name) {
  return !name.empty() && name.size() <= 15 && name != "." && name != ".." && name_chars(name);
}

Result<std::string> canonical_ip(std::string_view text) {
  const std::string s(text);
  std::array<unsigned char, 16> bytes{};
  std::array<char, INET6_ADDRSTRLEN> out{};
  if (::inet_pton(AF_INET, s.c_str(), bytes.data()) == 1) {
    return std::string(::inet_ntop(AF_INET, bytes.data(), out.data(), out.size()));
  }
  if (::inet_pton(AF_INET6, s.c_str(), bytes.data()) == 1) {
    return std::string(::inet_ntop(AF_INET6, bytes.data(), out.data(), out.size()));
  }
  return Error{"'" + s + "' is not an IP address (expected e.g. 127.0.0.1 or ::1)"};
}

Result<std::string> canonical_network(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return canonical_ip(text);
  auto ip = canonical_ip(text.substr(0, slash));
  const std::string what = "'" + std::string(text) + "' is not an IP network (expected e.g. 10.251.0.0/30)";
  if (!ip) return Error{what};
  const std::string_view len_text = text.substr(slash + 1);
  int len = -1;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  const bool v6 = is_ipv6(*ip);
  const int max = v6 ? 128 : 32;
  if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size() || len < 0 || len > max) {
    return Error{what};
  }
  std::array<unsigned char, 16> bytes{};
  ::inet_pton(v6 ? AF_INET6 : AF_INET, ip->c_str(), bytes.data());
  for (int bit = len; bit < max; ++bit) bytes[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  std::array<char, INET6_ADDRSTRLEN> out{};
  std::string network = ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), out.data(), out.size());
  if (len == max) return network;
  return network + "/" + std::to_string(len);
}

bool is_ipv6(std::string_view canonical) { return canonical.find(':') != std::string_view::npos; }

}  // namespace chaosplus::spec
