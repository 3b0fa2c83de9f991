#include "agent/restart_recovery.h"

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "agent/agent_run.h"
#include "fleet/protocol.h"
#include "runner/recovery.h"

namespace chaosplus::agent {

namespace {

struct Named {
  std::string fault_id;
  std::string summary;
};

// ledger id -> the fault's id in its run, as AgentRun wrote them before each inject.
std::map<std::int64_t, Named> fault_ids(const std::string& state_dir, const std::string& run) {
  std::map<std::int64_t, Named> ids;
  std::ifstream in(fault_ids_path(state_dir, run));
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;  // a line cut short by the crash
    ids[j.value("ledger_id", std::int64_t{0})] = {j.value("fault_id", ""), j.value("summary", "")};
  }
  return ids;
}

}  // namespace

std::vector<RecoveredFault> recover_previous(runner::Ledger& ledger, const std::string& state_dir, std::ostream& log) {
  // Which entries are open before recovery, to tell afterwards which faults it took off.
  std::map<std::string, std::set<std::int64_t>> open_before;
  if (auto running = ledger.runs_with_status("running")) {
    for (const auto& run : *running) {
      if (runner::runner_alive(run)) continue;
      if (auto entries = ledger.open_entries(run.run_id)) {
        for (const auto& e : *entries) open_before[run.run_id].insert(e.id);
      }
    }
  }
  const runner::RecoveryReport report = runner::recover(ledger, log);
  if (report.runs_recovered > 0 || report.entries_reverted > 0 || report.entries_failed > 0) {
    log << "agent: recovered " << report.runs_recovered << " run(s) of a previous agent process, "
        << report.entries_reverted << " change(s) reverted, " << report.entries_failed << " failed\n";
  }
  std::vector<RecoveredFault> recovered;
  for (const auto& [run, ids] : open_before) {
    const auto named = fault_ids(state_dir, run);
    auto entries = ledger.entries(run);
    if (!entries) continue;
    for (const auto& e : *entries) {
      const auto it = named.find(e.id);
      if (!ids.contains(e.id) || it == named.end() || it->second.fault_id.empty()) continue;
      recovered.push_back(
          {run, it->second.fault_id, it->second.summary, e.state == runner::EntryState::reverted, e.error});
    }
  }
  return recovered;
}

bool report_recovered(etcd::Client& client, const std::string& agent, const std::vector<RecoveredFault>& faults) {
  std::map<std::string, bool> has_status;  // by run
  for (const auto& f : faults) {
    if (!has_status.contains(f.run)) {
      auto statuses = client.get_prefix(fleet::keys::status_prefix(f.run));
      if (!statuses) return false;
      has_status[f.run] = !statuses->empty();
    }
    if (!has_status[f.run]) continue;  // the run is closed: nobody will read it
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    fleet::FaultStatus status{f.ok ? "reverted" : "revert_failed", f.summary, f.ok ? "recovered" : f.error, now};
    if (!client.put(fleet::keys::status(f.run, agent, f.fault_id), fleet::to_json(status))) return false;
  }
  return true;
}

}  // namespace chaosplus::agent
