#pragma once
// The values kernel-level faults take: IP addresses and networks, the names of network namespaces
// chaosplus may act in, interface names. The loader checks experiment files with these and the
// faults library checks again before any command runs, so both apply exactly the same rules.
#include <string>
#include <string_view>

#include "core/result.h"

namespace chaosplus::spec {

inline constexpr std::string_view kProjectNamespacePrefix = "chaosplus-";

// "chaosplus-" followed by 1..48 of [A-Za-z0-9_.-].
bool is_project_namespace(std::string_view name);
// A Linux interface name: 1..15 of [A-Za-z0-9_.-] (no '/', no spaces, not "." or "..").
bool is_valid_interface_name(std::string_view name);

// "127.0.0.1", "::1", "0:0::1" -> canonical text (inet_ntop); anything else is an error.
Result<std::string> canonical_ip(std::string_view text);
// An IP or "IP/prefix" (host bits cleared): "10.0.0.7/24" -> "10.0.0.0/24".
Result<std::string> canonical_network(std::string_view text);
// Of a canonical address or network.
bool is_ipv6(std::string_view canonical);
// Whether an address or network is loopback: core/loopback.h is_loopback_address.

}  // namespace chaosplus::spec
