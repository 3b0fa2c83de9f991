// The dashboard in headless Chromium, as issue 14 asks: open it, start the quickstart from the page,
// see its live charts grow, press HALT (a real click), see the run end as aborted, and find every
// fault of the run reverted in the ledger and the run aborted in the results store.
// CHAOSPLUS_SCREENSHOTS=DIR also writes DIR/dashboard-screenshot.png (scripts/screenshots.sh).
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "runner/ledger.h"
#include "store/store.h"
#include "support/chromium.h"
#include "support/dashboard_session.h"
#include "support/support.h"

namespace chaosplus::testing {
namespace {

using namespace std::chrono_literals;

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

TEST(BrowserDashboard, HaltPressedInTheBrowserAbortsTheRunAndRevertsEveryFault) {
  DashboardSession session;
  Chromium browser({.width = 1280, .height = 900});
  const HaltRound round = halt_round(session, browser);
  ASSERT_TRUE(round.failures.empty()) << join(round.failures) << "server:\n" << session.server_output();
  std::cout << "run " << round.run_id << ": live points " << round.points_before << " -> " << round.points_after
            << "; from the click: faults reverted " << round.faults_reverted_ms << " ms, every entry "
            << round.everything_reverted_ms << " ms; page: " << round.page_status << "\n";
  EXPECT_GT(round.points_after, round.points_before);
  EXPECT_GE(round.faults_on_at_click, 1);
  EXPECT_GE(round.faults_reverted_ms, 0);
  EXPECT_GE(round.everything_reverted_ms, round.faults_reverted_ms);

  // The ledger: nothing of the run is left on, and it injected faults that are all reverted.
  EXPECT_EQ(open_ledger_entries(session.ledger_path(), round.run_id), 0);
  auto ledger = runner::Ledger::open_for_inspection(session.ledger_path());
  ASSERT_TRUE(ledger) << ledger.error();
  auto entries = (*ledger)->entries(round.run_id);
  ASSERT_TRUE(entries) << entries.error();
  EXPECT_FALSE(entries->empty());
  for (const auto& entry : *entries) EXPECT_EQ(entry.state, runner::EntryState::reverted) << entry.kind;

  // The store: the run ended, aborted, and its journal says a HALT stopped it.
  auto store = store::Store::open(session.store_location());
  ASSERT_TRUE(store) << store.error();
  std::optional<store::RunRow> row;
  ASSERT_TRUE(wait_until(
      [&] {
        auto found = (*store)->find_run(round.run_id);
        row = found ? *found : std::nullopt;
        return row && row->status == store::RunStatus::finished;
      },
      20s));
  EXPECT_EQ(row->verdict, "aborted");
  EXPECT_EQ(row->exit_code, 2);
  EXPECT_GE(round.halted_event_ms, 0) << "run.halted is in the journal, after the click";
  // The HALT stopped it, not the quickstart's guardrail (which trips seconds later).
  EXPECT_EQ(round.halted_reason.find("guardrail"), std::string::npos) << round.halted_reason;
  EXPECT_NE(round.halted_reason.find("halted from `chaosplus server`"), std::string::npos) << round.halted_reason;

  EXPECT_TRUE(browser.errors().empty()) << join(browser.errors());
  EXPECT_TRUE(browser.blocked_requests().empty()) << join(browser.blocked_requests());
  if (const char* out = std::getenv("CHAOSPLUS_SCREENSHOTS"); out != nullptr && *out != '\0')
    browser.screenshot(std::string(out) + "/dashboard-screenshot.png");
}

}  // namespace
}  // namespace chaosplus::testing
