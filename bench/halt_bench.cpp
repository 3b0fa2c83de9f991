// HALT pressed in the browser, N rounds (bench/halt_from_browser.sh): each round a fresh `chaosplus
// server` and headless Chromium (tests/support/dashboard_session.h), the quickstart started from the
// dashboard, HALT clicked while a fault is on, and the time from the click until the ledger shows
// every fault of the run reverted (polled every 2 ms), beside the journal's own times.
//   chaosplus-halt-bench [ROUNDS] [FAULT_KIND]
// FAULT_KIND: the ledger kind of the fault to press HALT under ("proxy.toxic": the quickstart's
// latency; "process.killed": its killed token service, restarted by the revert); any fault otherwise.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/chromium.h"
#include "support/dashboard_session.h"

using chaosplus::testing::Chromium;
using chaosplus::testing::DashboardSession;
using chaosplus::testing::HaltRound;

namespace {

struct Spread {
  double min = 0, median = 0, max = 0;
};

Spread spread(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  if (n == 0) return {};
  const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {values.front(), median, values.back()};
}

void print(const char* what, const std::vector<double>& values) {
  const Spread s = spread(values);
  std::printf("%-44s min %7.1f  median %7.1f  max %7.1f ms\n", what, s.min, s.median, s.max);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  const std::string kind = argc > 2 ? argv[2] : "";
  if (rounds < 1) {
    std::fprintf(stderr, "usage: chaosplus-halt-bench [ROUNDS] [FAULT_KIND]\n");
    return 3;
  }
  std::vector<double> faults, everything, halted, last_event;
  int failed = 0;
  for (int i = 1; i <= rounds; ++i) {
    HaltRound round;
    try {
      DashboardSession session;
      Chromium browser({.width = 1280, .height = 900});
      round = chaosplus::testing::halt_round(session, browser, kind);
    } catch (const std::exception& e) {
      round.failures.push_back(e.what());
    }
    if (!round.failures.empty()) {
      ++failed;
      std::printf("round %d: FAILED\n", i);
      for (const auto& f : round.failures) std::printf("  %s\n", f.c_str());
      continue;
    }
    std::printf(
        "round %d: run %s, %d fault(s) on at the click; faults reverted %.1f ms, every entry %.1f ms; "
        "journal: run.halted %.0f ms, last fault.reverted %.0f ms; page: \"%s\"\n",
        i, round.run_id.c_str(), round.faults_on_at_click, round.faults_reverted_ms, round.everything_reverted_ms,
        round.halted_event_ms, round.last_fault_reverted_event_ms, round.page_status.c_str());
    std::fflush(stdout);
    faults.push_back(round.faults_reverted_ms);
    everything.push_back(round.everything_reverted_ms);
    halted.push_back(round.halted_event_ms);
    last_event.push_back(round.last_fault_reverted_event_ms);
  }
  std::printf("\n%d round(s), %d failed, HALT under %s; from the click on HALT:\n", rounds, failed,
              kind.empty() ? "the first fault on" : kind.c_str());
  print("every fault reverted (ledger, polled)", faults);
  print("every ledger entry reverted (targets too)", everything);
  print("run.halted in the journal (ms clock)", halted);
  print("last fault.reverted in the journal", last_event);
  const bool within = !faults.empty() && failed == 0 && spread(faults).max <= 1000.0;
  std::printf("bar: faults reverted within 1 s of the click in every round: %s\n", within ? "yes" : "NO");
  return within ? 0 : 1;
}
