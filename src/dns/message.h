#pragma once
// The DNS wire format (RFC 1035) as far as the run's resolver needs it: reading one query, which
// comes from a target and so is untrusted input (every length and offset is checked against the
// message), and writing the answer. Answers carry no name compression beyond pointing their owner
// name back at the question; EDNS0 (an OPT record in the additional section) is read past and not
// echoed, which RFC 6891 allows.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace chaosplus::dns {

enum class Rcode : std::uint8_t { noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimp = 4, refused = 5 };

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeAAAA = 28;
inline constexpr std::uint16_t kClassIN = 1;

struct Query {
  std::uint16_t id = 0;
  bool recursion_desired = false;
  std::uint16_t opcode = 0;
  std::string name;       // lower case, no trailing dot ("" = the root)
  std::string wire_name;  // the question's name as sent (its letter case kept), in wire form
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
};

// What reading a message gave: a query, or the id and flags to answer a malformed one with FORMERR
// (nothing when even the header is short or it is a response: such a message gets no answer).
struct Parsed {
  std::optional<Query> query;
  std::optional<std::uint16_t> formerr_id;  // set when the header was readable but the rest was not
  std::uint16_t opcode = 0;
};
Parsed parse_query(std::span<const std::uint8_t> message);

// An answer to `query`: `rcode`, and for NOERROR one A or AAAA record per address of the asked
// type (`addresses` are binary, 4 or 16 bytes; others are left out) with `ttl` seconds.
std::vector<std::uint8_t> build_response(const Query& query, Rcode rcode,
                                         const std::vector<std::vector<std::uint8_t>>& addresses, std::uint32_t ttl);
// A header-only answer with `rcode` (FORMERR, NOTIMP) for a message whose question could not be used.
std::vector<std::uint8_t> build_header_response(std::uint16_t id, std::uint16_t opcode, Rcode rcode);

}  // namespace chaosplus::dns
