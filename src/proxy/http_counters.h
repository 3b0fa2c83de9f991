#pragma once
// What the HTTP toxics did, summed over a proxy engine (see http_session.h).
#include <cstdint>

namespace chaosplus::proxy {

struct HttpCounters {
  std::uint64_t answered = 0;  // requests answered by http_status
  std::uint64_t delayed = 0;   // requests held by http_delay
  std::uint64_t aborted = 0;   // responses cut by http_abort
  std::uint64_t unframed = 0;  // connections with an HTTP toxic whose traffic stopped being HTTP/1.x
};

}  // namespace chaosplus::proxy
