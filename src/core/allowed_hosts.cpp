#include "core/allowed_hosts.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <cstring>
#include <optional>

#include "core/loopback.h"

namespace chaosplus {
namespace {

using Bytes = std::array<unsigned char, 16>;
constexpr std::array<unsigned char, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// An address and how many of its leading bits count, both in IPv6 form (IPv4 mapped), so one
// comparison serves both families.
struct Parsed {
  Bytes bytes{};
  int prefix = 128;
};

std::optional<Parsed> parse(std::string_view text) {
  const auto slash = text.find('/');
  const std::string_view ip = text.substr(0, slash);
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN || ip.find('\0') != std::string_view::npos) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN] = {};
  std::memcpy(buffer, ip.data(), ip.size());
  Parsed out;
  bool v4 = false;
  in_addr a4{};
  if (::inet_pton(AF_INET, buffer, &a4) == 1) {
    std::memcpy(out.bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(out.bytes.data() + 12, &a4, 4);
    v4 = true;
  } else if (::inet_pton(AF_INET6, buffer, out.bytes.data()) != 1) {
    return std::nullopt;
  }
  if (slash != std::string_view::npos) {
    const std::string_view len_text = text.substr(slash + 1);
    int len = -1;
    auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size()) return std::nullopt;
    if (len < 0 || len > (v4 ? 32 : 128)) return std::nullopt;
    out.prefix = v4 ? len + 96 : len;
  }
  return out;
}

bool same_prefix(const unsigned char* a, const unsigned char* b, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a, b, static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Status AllowedHosts::add(std::string_view entry, std::string_view source) {
  entry = trim(entry);
  const auto parsed = parse(entry);
  if (!parsed) {
    return Error{std::string(source) + ": allow: found '" + std::string(entry) +
                     "', expected an IP address or a network IP/prefix (10.77.0.0/24, 192.168.1.5, fd00::/64); "
                     "names are not allowed",
                 ErrorCode::invalid_argument};
  }
  Network network{};
  std::memcpy(network.bytes, parsed->bytes.data(), 16);
  network.prefix = parsed->prefix;
  network.text = std::string(entry);
  network.source = std::string(source);
  std::lock_guard lock(mutex_);
  for (const auto& known : networks_) {
    if (known.text == network.text) return ok_status();
  }
  networks_.push_back(std::move(network));
  return ok_status();
}

Status AllowedHosts::add_list(std::string_view list, std::string_view source) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view entry = trim(list.substr(0, comma));
    if (!entry.empty()) {
      if (auto added = add(entry, source); !added) return added;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return ok_status();
}

bool AllowedHosts::contains(const unsigned char* bytes, int prefix) const {
  std::lock_guard lock(mutex_);
  for (const auto& network : networks_) {
    if (prefix >= network.prefix && same_prefix(bytes, network.bytes, network.prefix)) return true;
  }
  return false;
}

bool AllowedHosts::allows_host(std::string_view host) const {
  if (is_loopback_host(host)) return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) return false;
  }
  if (host.find('/') != std::string_view::npos) return false;
  const auto parsed = parse(host);
  return parsed && contains(parsed->bytes.data(), parsed->prefix);
}

bool AllowedHosts::allows_address(std::string_view address) const {
  if (is_loopback_address(address)) return true;
  const auto parsed = parse(address);
  return parsed && contains(parsed->bytes.data(), parsed->prefix);
}

bool AllowedHosts::allows_address(const sockaddr_storage& address) const {
  if (is_loopback_address(address)) return true;
  Bytes b{};
  if (address.ss_family == AF_INET) {
    std::memcpy(b.data(), kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(b.data() + 12, &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, 4);
  } else if (address.ss_family == AF_INET6) {
    std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, 16);
  } else {
    return false;
  }
  return contains(b.data(), 128);
}

std::string AllowedHosts::describe() const {
  std::string out = "loopback (127.0.0.0/8, ::1, localhost)";
  std::lock_guard lock(mutex_);
  for (const auto& network : networks_) out += ", " + network.text + " (" + network.source + ")";
  return out;
}

void AllowedHosts::clear() {
  std::lock_guard lock(mutex_);
  networks_.clear();
}

AllowedHosts& allowed_hosts() {
  static AllowedHosts list;
  return list;
}

std::string allow_hint() {
  return "allowed are " + allowed_hosts().describe() +
         "; to allow more, add the address or network to `allow:` in the config file or to $CHAOSPLUS_ALLOW "
         "(comma-separated IPs or CIDRs), or run the target on an agent (on:)";
}

}  // namespace chaosplus
