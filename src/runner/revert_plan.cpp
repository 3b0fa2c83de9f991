#include "runner/revert_plan.h"

namespace chaosplus::runner {

void revert_in_order(std::vector<PendingRevert> newest_first, const std::function<void(Duration)>& wait) {
  using Clock = std::chrono::steady_clock;
  std::vector<PendingRevert*> returning;
  for (PendingRevert& p : newest_first) {
    if (p.brings_back) {
      returning.push_back(&p);
    } else {
      p.revert();
    }
  }
  // The grace of each counts from the moment the faults that could hold it back were all off.
  const auto start = Clock::now();
  while (!returning.empty()) {
    const auto now = Clock::now();
    std::erase_if(returning, [&](PendingRevert* p) {
      if (now - start < p->grace && !p->back()) return false;
      p->revert();
      return true;
    });
    if (!returning.empty()) wait(std::chrono::milliseconds(50));
  }
}

}  // namespace chaosplus::runner
