#pragma once
// The dashboard in a real browser, as a user drives it: a `chaosplus server` on a free loopback port
// with its own state folder (ledger), results store, token and experiments folder (the quickstart,
// moved to free ports), and a headless Chromium that may reach nothing but that server. One HALT
// round (start the quickstart from the page, see its live charts grow, press HALT while a fault is
// on) is shared by tests/integration/browser_dashboard_test.cpp and bench/halt_from_browser.sh.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/chromium.h"
#include "support/support.h"

namespace chaosplus::testing {

class DashboardSession {
 public:
  DashboardSession();  // the server is up and answers when it returns; throws otherwise
  ~DashboardSession();
  DashboardSession(const DashboardSession&) = delete;
  DashboardSession& operator=(const DashboardSession&) = delete;

  std::string origin() const;         // "http://127.0.0.1:PORT"
  std::string dashboard_url() const;  // the page, with its token: origin + "/#token=..."
  const std::string& token() const { return token_; }
  std::string state_dir() const { return dir_.file("state"); }
  std::string ledger_path() const;
  std::string store_location() const { return dir_.file("results.db"); }
  std::string server_output() const { return server_->output(); }

 private:
  TempDir dir_;
  int port_ = 0;
  std::string token_;
  std::unique_ptr<Child> server_;
};

// What one HALT round saw. Times are from the click (the wall clock just before the mouse press).
struct HaltRound {
  std::string run_id;
  std::string journal;
  int points_before = 0, points_after = 0;   // the live charts' points, before and after they grew
  int faults_on_at_click = 0;                // fault ledger entries active when HALT was pressed
  double faults_reverted_ms = -1;            // the ledger: every fault entry of the run reverted (polled)
  double everything_reverted_ms = -1;        // the ledger: every entry of the run (its targets too)
  double halted_event_ms = -1;               // the journal's run.halted
  double last_fault_reverted_event_ms = -1;  // the journal's last fault.reverted
  std::string halted_reason;                 // the journal's run.halted reason
  std::string page_status;                   // what the page said at the end
  std::vector<std::string> failures;         // what went wrong; empty when the round worked
};

// Opens the dashboard in `browser`, starts the quickstart with its button, waits for the live charts
// to grow while a fault is on, presses HALT and measures until the page shows the run aborted.
// `fault_kind`, when given, is the ledger kind of the fault to press HALT under (the quickstart's
// "proxy.toxic" latency comes first, its "process.killed" a few seconds later, the guardrail about a
// second after that); any fault otherwise.
HaltRound halt_round(DashboardSession& session, Chromium& browser, const std::string& fault_kind = {});

// Entries of `run_id` in the ledger at `path` that are not reverted; nullopt when unreadable.
std::optional<int> open_ledger_entries(const std::string& ledger_path, const std::string& run_id);

}  // namespace chaosplus::testing
