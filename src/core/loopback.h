#pragma once
// The one loopback rule: this version of chaosplus sends traffic, injects faults and runs load
// only against the local host. Every module (spec, load, proxy, faults, net) asks here.
//
// Loopback is 127.0.0.0/8, ::1, and IPv4 loopback written as IPv4-mapped IPv6
// (::ffff:127.0.0.0/104): a socket connecting to ::ffff:127.0.0.1 reaches 127.0.0.1, so it is
// loopback traffic. The name "localhost" (any letter case, no trailing dot, no subdomain) is
// loopback too: chaosplus resolves it itself to 127.0.0.1 and ::1 (see is_localhost_name), never
// through DNS. Every other name is refused, whatever it might resolve to.
#include <sys/socket.h>

#include <string_view>

namespace chaosplus {

// "localhost" in any letter case; nothing else ("localhost.", "localhost.evil.com" are names).
bool is_localhost_name(std::string_view host);

// An IPv4 or IPv6 literal as inet_pton reads it ("127.0.0.1", "::1", "0:0::1", "::ffff:127.0.0.1").
bool is_ip_literal(std::string_view text);

// A host as written in a URL or "host:port": "localhost", an IP literal, or an IPv6 literal in
// brackets ("[::1]"). True only if it is loopback.
bool is_loopback_host(std::string_view host);

// An IP literal, or a network "IP/prefix" that lies wholly inside loopback ("127.0.0.0/8" yes,
// "0.0.0.0/0" no, "::1/128" yes). No names.
bool is_loopback_address(std::string_view address);

// A resolved socket address (AF_INET or AF_INET6); any other family is not loopback.
bool is_loopback_address(const sockaddr_storage& address);

}  // namespace chaosplus
