#pragma once
// When a new primary took over after a fault, from what Patroni's members said over time: each
// member's API is asked GET /primary again and again, and every answer is a sample. Pure, so tests
// feed it made-up samples.
#include <optional>
#include <string>
#include <vector>

#include "writes/history.h"

namespace chaosplus::writes {

struct PrimarySample {
  std::string api;           // "127.0.0.11:8008"
  Clock::time_point at;      // when the answer came (or the ask gave up)
  bool primary = false;      // 200 to /primary
};

// The first time after `injected` a primary answered that is a *new* one: a member other than the
// one that last answered /primary before the fault, or that same member once it had stopped
// answering as primary after the fault (it lost the leader lock and won it back). Right after the
// injection the old leader may still answer /primary until Patroni notices; that answer is not a
// promotion. With no primary seen before the fault, the first one after it counts. Unset when
// none was seen. Samples may come in any order.
std::optional<Clock::time_point> promoted_after(const std::vector<PrimarySample>& samples, Clock::time_point injected);

}  // namespace chaosplus::writes
