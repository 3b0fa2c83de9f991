#include "support/dashboard_session.h"

#include <poll.h>
#include <signal.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <stdexcept>

#include "runner/ledger.h"
#include "runner/recovery.h"
#include "support/journal.h"

namespace chaosplus::testing {
namespace {

using namespace std::chrono_literals;
using SystemClock = std::chrono::system_clock;

// The dashboard's hooks this flow uses: the stable ones listed at the top of src/server/dashboard/index.html.
const std::string kStartQuickstart = "button[data-start=\"quickstart.yaml\"]";
const std::string kHalt = "#halt";
const std::string kRunId = "#run-id";
const std::string kStatus = "#run-status";
// The points the live charts have drawn so far, summed over the charts.
const std::string kLivePoints =
    "[...document.querySelectorAll('#run-view canvas[data-chart]')]"
    ".reduce((n, c) => n + Number(c.dataset.points || 0), 0)";
// The open run's faults on the page: "on" or "reverted" each.
const std::string kPageFaults = "[...document.querySelectorAll('#faults li[data-fault]')].map(li => li.dataset.state)";

std::string text_of(const std::string& selector) {
  return "(document.querySelector('" + selector + "') || {}).textContent || ''";
}

// "2026-12-06T16:34:45.380Z" as a wall-clock time.
std::optional<SystemClock::time_point> parse_time(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &millis) != 7)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return SystemClock::from_time_t(::timegm(&tm)) + std::chrono::milliseconds(millis);
}

double ms_between(SystemClock::time_point from, SystemClock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// The ledger entries of a run, by id: their state. Empty when the ledger cannot be read yet.
std::map<std::int64_t, runner::EntryState> entry_states(const std::string& ledger_path, const std::string& run_id) {
  std::map<std::int64_t, runner::EntryState> states;
  auto ledger = runner::Ledger::open_for_inspection(ledger_path);
  if (!ledger) return states;
  auto entries = (*ledger)->entries(run_id);
  if (!entries) return states;
  for (const auto& entry : *entries) states[entry.id] = entry.state;
  return states;
}

// The newest run in the ledger that is still running: its id and journal.
std::optional<runner::RunRecord> running_run(const std::string& ledger_path) {
  auto ledger = runner::Ledger::open_for_inspection(ledger_path);
  if (!ledger) return std::nullopt;
  auto runs = (*ledger)->runs_with_status("running");
  if (!runs || runs->empty()) return std::nullopt;
  return runs->back();
}

// Ledger ids of the faults the run injected so far (its journal's fault.injected events).
std::set<std::int64_t> fault_entries(const std::string& journal) {
  std::set<std::int64_t> ids;
  for (const auto& event : journal_events(journal, "fault.injected"))
    if (event.contains("ledger_id")) ids.insert(event["ledger_id"].get<std::int64_t>());
  return ids;
}

}  // namespace

DashboardSession::DashboardSession() : port_(free_port()) {
  // The quickstart as shipped, moved to free ports so it runs beside anything else.
  std::string quickstart = read_file(source_path("experiments/quickstart.yaml"));
  for (const char* port : {"18080", "18090", "18091"})
    quickstart = std::regex_replace(quickstart, std::regex(port), std::to_string(free_port()));
  std::filesystem::create_directories(dir_.file("experiments"));
  write_file(dir_.file("experiments/quickstart.yaml"), quickstart);
  token_ = "browser-test-token-" + std::to_string(port_);
  write_file(dir_.file("token"), token_ + "\n");
  server_ = std::make_unique<Child>(std::vector<std::string>{
      bin("chaosplus"), "server", "--listen", "127.0.0.1:" + std::to_string(port_), "--token-file", dir_.file("token"),
      "--state-dir", state_dir(), "--store", store_location(), "--runs-dir", dir_.file("runs"), "--experiments",
      dir_.file("experiments")});
  if (!wait_until([&] { return http_request("GET", "127.0.0.1", port_, "/api/experiments", {}, 1s).status == 200; },
                  20s))
    throw std::runtime_error("chaosplus server did not answer on port " + std::to_string(port_) + ":\n" +
                             server_->output());
}

DashboardSession::~DashboardSession() {
  server_->signal(SIGTERM);
  server_->wait(10s);
  // A run the server started goes on without it: one a failed round left running is halted (and
  // waited for) before its state folder goes away.
  if (running_run(ledger_path())) {
    Child halt({bin("chaosplus"), "halt", "--state-dir", state_dir(), "--wait", "30s"});
    halt.wait(40s);
  }
}

std::string DashboardSession::origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
std::string DashboardSession::dashboard_url() const { return origin() + "/#token=" + token_; }
std::string DashboardSession::ledger_path() const { return runner::ledger_path(state_dir()); }

std::optional<int> open_ledger_entries(const std::string& ledger_path, const std::string& run_id) {
  auto ledger = runner::Ledger::open_for_inspection(ledger_path);
  if (!ledger) return std::nullopt;
  auto open = (*ledger)->open_entries(run_id);
  if (!open) return std::nullopt;
  return static_cast<int>(open->size());
}

HaltRound halt_round(DashboardSession& session, Chromium& browser, const std::string& fault_kind) {
  HaltRound round;
  auto fail = [&](const std::string& what) {
    round.failures.push_back(what);
    return round;
  };
  browser.allow_only(session.origin());
  browser.open(session.dashboard_url());
  if (!browser.wait_for("document.querySelector('" + kStartQuickstart + ":not([disabled])') !== null", 20s))
    return fail("the dashboard shows no start button for the quickstart (" + kStartQuickstart + ")");
  browser.click(kStartQuickstart);
  if (!browser.wait_for("/^\\d{8}T/.test(" + text_of(kRunId) + ")", 30s))
    return fail("the page opened no run after the start button: \"" +
                browser.evaluate(text_of("#start-result")).get<std::string>() + "\"\nserver:\n" +
                session.server_output());
  round.run_id = browser.evaluate(text_of(kRunId)).get<std::string>();
  if (!wait_until(
          [&] {
            auto ledger = runner::Ledger::open_for_inspection(session.ledger_path());
            if (!ledger) return false;
            auto runs = (*ledger)->runs();
            if (!runs) return false;
            for (const auto& run : *runs)
              if (run.run_id == round.run_id) round.journal = run.journal;
            return !round.journal.empty();
          },
          20s))
    return fail("the run " + round.run_id + " the page shows is not in the server's ledger");

  // HALT while a fault is on, so there is something to revert, and once the live charts have grown
  // under it (a probe result every 250 ms draws a point on each of the two probe charts: eight more
  // points are a second).
  std::set<std::int64_t> faults;
  auto faults_on = [&](const std::string& kind = {}) {
    faults = fault_entries(round.journal);
    auto ledger = runner::Ledger::open_for_inspection(session.ledger_path());
    if (!ledger) return 0;
    auto entries = (*ledger)->entries(round.run_id);
    if (!entries) return 0;
    int on = 0;
    for (const auto& entry : *entries)
      if (faults.contains(entry.id) && entry.state == runner::EntryState::active &&
          (kind.empty() || entry.kind == kind))
        ++on;
    return on;
  };
  if (!wait_until([&] { return faults_on() > 0; }, 30s)) return fail("no fault came on in the run");

  // The live charts grow as events arrive.
  if (!browser.wait_for(kLivePoints + " >= 3", 20s)) return fail("the live charts got no points");
  round.points_before = browser.evaluate(kLivePoints).get<int>();
  if (!browser.wait_for(kLivePoints + " >= " + std::to_string(round.points_before + 8), 20s))
    return fail("the live charts did not grow past " + std::to_string(round.points_before) + " points");
  round.points_after = browser.evaluate(kLivePoints).get<int>();
  if (!fault_kind.empty() && !wait_until([&] { return faults_on(fault_kind) > 0; }, 30s))
    return fail("no " + fault_kind + " fault came on in the run");

  round.faults_on_at_click = faults_on();
  const auto click = SystemClock::now();
  browser.click(kHalt);
  // Tight polling of the ledger: the first moment every fault entry is reverted, then every entry.
  const auto poll_until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < poll_until) {
    const auto states = entry_states(session.ledger_path(), round.run_id);
    const auto now = SystemClock::now();
    bool faults_done = !states.empty(), all_done = !states.empty();
    for (const auto& [id, state] : states) {
      const bool done = state == runner::EntryState::reverted;
      all_done = all_done && done;
      if (faults.contains(id)) faults_done = faults_done && done;
    }
    if (faults_done && round.faults_reverted_ms < 0) round.faults_reverted_ms = ms_between(click, now);
    if (all_done) {
      round.everything_reverted_ms = ms_between(click, now);
      break;
    }
    ::poll(nullptr, 0, 2);  // the polling interval of the measurement
  }
  if (round.faults_reverted_ms < 0) fail("the run's faults were not all reverted within 30 s of HALT");
  if (round.everything_reverted_ms < 0) fail("the run's ledger entries were not all reverted within 30 s of HALT");

  const std::string verdict = "document.querySelector('" + kStatus + "').dataset.verdict";
  if (!browser.wait_for(verdict + " === 'aborted'", 30s))
    fail("the page did not show the run aborted: \"" + browser.evaluate(text_of(kStatus)).get<std::string>() + "\"");
  round.page_status = browser.evaluate(text_of(kStatus)).get<std::string>();
  // The page's own list of the run's faults says each is reverted.
  if (!browser.wait_for(kPageFaults + ".length > 0 && " + kPageFaults + ".every(s => s === 'reverted')", 10s))
    fail("the page does not show every fault reverted: " + browser.evaluate(kPageFaults).dump());

  for (const auto& event : journal_events(round.journal, "run.halted")) {
    round.halted_reason = event.value("reason", "");
    if (auto at = parse_time(event.value("time", ""))) round.halted_event_ms = ms_between(click, *at);
  }
  for (const auto& event : journal_events(round.journal, "fault.reverted"))
    if (auto at = parse_time(event.value("time", "")))
      round.last_fault_reverted_event_ms = std::max(round.last_fault_reverted_event_ms, ms_between(click, *at));
  return round;
}

}  // namespace chaosplus::testing
