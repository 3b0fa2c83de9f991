#include "dns/answer.h"

#include <arpa/inet.h>

namespace chaosplus::dns {
namespace {

std::vector<std::uint8_t> with_address(const Query& q, const std::string& address) {
  std::vector<std::vector<std::uint8_t>> addresses;
  if (auto bytes = address_bytes(address)) addresses.push_back(std::move(*bytes));
  // An address of the other family is left out by build_response: NOERROR without records (NODATA),
  // which is what a real server says for a name that has only the other kind.
  return build_response(q, Rcode::noerror, addresses, kTtl);
}

std::vector<std::uint8_t> usual(const Query& q, const RuleFile& rules) {
  const auto it = rules.resolve.find(q.name);
  if (it == rules.resolve.end()) return build_response(q, Rcode::refused, {}, kTtl);
  return with_address(q, it->second);
}

}  // namespace

std::optional<std::vector<std::uint8_t>> address_bytes(const std::string& text) {
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v4);
    return std::vector<std::uint8_t>(p, p + 4);
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) return std::vector<std::uint8_t>(v6.s6_addr, v6.s6_addr + 16);
  return std::nullopt;
}

Decision decide(const Query& query, const RuleFile& rules, double draw) {
  Decision d;
  const Rule* rule = match(rules, query.name);
  if (rule == nullptr || draw >= rule->share) {
    d.reply = usual(query, rules);
    return d;
  }
  d.delay = std::chrono::milliseconds(rule->delay_ms);
  switch (rule->answer) {
    case Answer::nxdomain: d.reply = build_response(query, Rcode::nxdomain, {}, kTtl); break;
    case Answer::servfail: d.reply = build_response(query, Rcode::servfail, {}, kTtl); break;
    case Answer::refused: d.reply = build_response(query, Rcode::refused, {}, kTtl); break;
    case Answer::timeout: break;
    case Answer::delay: d.reply = usual(query, rules); break;
    case Answer::address: d.reply = with_address(query, rule->address); break;
  }
  return d;
}

}  // namespace chaosplus::dns
