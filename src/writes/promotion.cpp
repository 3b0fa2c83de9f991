#include "writes/promotion.h"

#include <algorithm>
#include <set>

namespace chaosplus::writes {

std::optional<Clock::time_point> promoted_after(const std::vector<PrimarySample>& samples, Clock::time_point injected) {
  std::vector<const PrimarySample*> ordered;
  for (const PrimarySample& s : samples) ordered.push_back(&s);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const PrimarySample* a, const PrimarySample* b) { return a->at < b->at; });
  std::optional<std::string> before;  // the primary last seen before the fault
  std::set<std::string> stepped_down;  // members that stopped answering as primary after the fault
  for (const PrimarySample* s : ordered) {
    if (s->at < injected) {
      if (s->primary) before = s->api;
      continue;
    }
    if (!s->primary) {
      stepped_down.insert(s->api);
      continue;
    }
    if (!before || s->api != *before || stepped_down.contains(s->api)) return s->at;
  }
  return std::nullopt;
}

}  // namespace chaosplus::writes
