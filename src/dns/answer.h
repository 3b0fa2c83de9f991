#pragma once
// What the run's resolver answers to one query, given its rules (dns/rules.h): the pure part of the
// resolver, apart from its sockets so a unit test can ask it directly.
//
// A name under a dns fault's rule (for the rule's share of the queries) gets the rule's answer. Any
// other name gets its `resolve:` address, and a name in neither is REFUSED: the resolver never asks
// another server, so it causes no traffic beyond loopback (chaosplus's loopback rule,
// core/loopback.h) and a target's experiment names every name it resolves (names in /etc/hosts,
// "localhost" among them, are answered by glibc before it asks any server).
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "dns/message.h"
#include "dns/rules.h"

namespace chaosplus::dns {

// TTL of every record: nothing between the target and the resolver keeps an answer, so a fault's
// start and end are seen at the next lookup (glibc keeps none; nscd or systemd-resolved would).
inline constexpr std::uint32_t kTtl = 0;

struct Decision {
  std::optional<std::vector<std::uint8_t>> reply;  // nothing: no answer at all (`timeout`)
  std::chrono::milliseconds delay{0};              // wait this long before sending it
};

// `draw` is uniform in [0, 1): a rule acts when draw < its share.
Decision decide(const Query& query, const RuleFile& rules, double draw);

// An IPv4 or IPv6 literal as 4 or 16 bytes; nothing when it is neither.
std::optional<std::vector<std::uint8_t>> address_bytes(const std::string& text);

}  // namespace chaosplus::dns
