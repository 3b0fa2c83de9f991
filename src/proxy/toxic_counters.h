#pragma once
// What one toxic touched since it was added, summed over the connections of one engine: the
// "reach" a fault reports when it is taken off. Plain integers, bumped on the data path by the
// engine's single loop thread (no lock, no allocation); read on that thread too (Engine::toxic_stats).
#include <cstdint>

namespace chaosplus::proxy {

struct ToxicCounters {
  // Byte-level toxics: connections that drew against toxicity and were hit, or passed untouched.
  // HTTP toxics: connections on which the toxic acted on at least one request (none are "skipped").
  std::uint64_t connections = 0;
  std::uint64_t connections_skipped = 0;
  // Byte-level toxics: HTTP requests that went through a connection it acted on while it was on
  // (only where the proxy could frame the traffic as HTTP/1.x). HTTP toxics: requests answered
  // (http_status), held (http_delay) or whose response was cut (http_abort).
  std::uint64_t requests = 0;
  // HTTP toxics: matching requests that lost the draw against toxicity.
  std::uint64_t requests_skipped = 0;
  // Byte-level toxics: bytes that entered it on the connections it acted on.
  std::uint64_t bytes = 0;

  ToxicCounters& operator+=(const ToxicCounters& other) {
    connections += other.connections;
    connections_skipped += other.connections_skipped;
    requests += other.requests;
    requests_skipped += other.requests_skipped;
    bytes += other.bytes;
    return *this;
  }
  bool operator==(const ToxicCounters&) const = default;
};

}  // namespace chaosplus::proxy
