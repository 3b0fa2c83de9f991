#include "faults/undo.h"

#include <csignal>
#include <nlohmann/json.hpp>

#include "core/halt_switch.h"
#include "faults/extension_fault.h"
#include "faults/nft_faults.h"
#include "faults/process_faults.h"
#include "faults/rollback.h"
#include "faults/system_tool.h"
#include "faults/tbf_fault.h"
#include "proxy/api_client.h"
#include "targets/attach.h"
#include "targets/launch.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;

std::optional<targets::ProcessId> process_in(const nlohmann::json& r, const char* pid_key = "pid",
                                             const char* start_key = "start_time") {
  if (!r.contains(pid_key)) return std::nullopt;
  return targets::ProcessId{r.at(pid_key).get<int>(), r.value(start_key, 0ULL)};
}

bool stopped(int pid) {
  const char state = targets::process_state(pid);
  return state == 'T' || state == 't';
}

Status continue_process(const targets::ProcessId& id, targets::SignalScope scope) {
  if (auto s = targets::send_signal(id, SIGCONT, scope); !s) return s;
  HaltSwitch never;
  for (int i = 0; i < 100; ++i) {
    if (!stopped(id.pid)) return ok_status();
    never.wait_for(10ms);
  }
  return Error{"sent SIGCONT to pid " + std::to_string(id.pid) + " but it is still stopped"};
}

// The paused process, then its parents that were running before the pause and are stopped now: a
// `su`/`runuser` wrapper stops itself by job control when its child stops, and nothing else would
// continue it. A parent stopped before the pause is left as it was.
Status resume(const nlohmann::json& r) {
  auto id = process_in(r);
  if (id && targets::is_alive(*id)) {
    if (auto s = continue_process(*id, targets::SignalScope::group); !s) return s;
  }
  if (const auto parents = r.find("parents"); parents != r.end() && parents->is_array()) {
    for (const auto& p : *parents) {
      auto parent = process_in(p);
      if (!parent || !targets::is_alive(*parent) || !stopped(parent->pid)) continue;
      if (auto s = continue_process(*parent, targets::SignalScope::process); !s) return s;
    }
  }
  return ok_status();
}

// The attach rule a kill recorded; none for a target the runner started.
std::optional<spec::ProcessAttach> attach_in(const nlohmann::json& r) {
  if (!r.contains("restart_command")) return std::nullopt;
  spec::ProcessAttach attach;
  attach.restart_command = r.at("restart_command").get<std::vector<std::string>>();
  if (const auto rule = r.find("attach"); rule != r.end()) {
    if (rule->contains("pid")) attach.pid = rule->at("pid").get<int>();
    attach.pidfile = rule->value("pidfile", std::string());
    attach.name = rule->value("name", std::string());
    attach.pid_command = rule->value("pid_command", std::vector<std::string>());
    attach.pid_url = rule->value("pid_url", std::string());
    attach.pid_field = rule->value("pid_field", std::string());
  }
  return attach;
}

Status bring_back(const nlohmann::json& r) {
  auto id = process_in(r);
  if (id && targets::is_alive(*id)) return ok_status();
  // A target the runner started is stopped by its own process.started entry; nothing to bring back.
  auto attach = attach_in(r);
  if (!attach) return ok_status();
  const bool has_rule = attach->pid || !attach->pidfile.empty() || !attach->name.empty() ||
                        !attach->pid_command.empty() || !attach->pid_url.empty();
  if (has_rule && back_by_itself(*attach, id)) return ok_status();  // a supervisor restarted it
  const std::string target = r.value("target", std::string("?"));
  if (attach->restart_command.empty()) {
    return Error{"target '" + target +
                 "' was killed and is not running; it has no attach.restart_command, so "
                 "start it by hand (chaosplus recover checks again)"};
  }
  spec::ProcessLaunch launch;
  launch.command = attach->restart_command;
  auto started = targets::spawn(launch, "/dev/null");
  if (!started) return Error{"restart command of " + target + ": " + started.error()};
  return ok_status();
}

Status remove_toxic(const nlohmann::json& r) {
  if (auto server = process_in(r, "server_pid", "server_start_time"); server && !targets::is_alive(*server)) {
    return ok_status();  // the proxy server is gone, and its toxics with it
  }
  proxy::ApiClient client(r.at("api").get<std::string>(), r.value("token", std::string()));
  return client.remove_toxic(r.at("proxy").get<std::string>(), r.at("toxic").get<std::string>());
}

}  // namespace

UndoStage undo_stage(std::string_view kind) {
  if (kind == kinds::rollback) return UndoStage::rollback;
  if (kind == kinds::process_started) return UndoStage::started_process;
  return UndoStage::fault;
}

std::string started_process_record(const std::string& what, const std::optional<targets::ProcessId>& id) {
  nlohmann::json r{{"what", what}};
  if (id) r["pid"] = id->pid, r["start_time"] = id->start_time;
  return r.dump();
}

Status undo(std::string_view kind, std::string_view record) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  try {
    // Extension faults (docs/extensions.md): the extension's own revert, from the record alone.
    if (kind == kExtensionFaultKind) return revert_extension_fault(record);
    if (kind == kinds::process_started) {
      auto id = process_in(r);
      return id ? targets::stop_group(*id) : ok_status();  // no pid: it never started
    }
    if (kind == kinds::process_paused) return resume(r);
    if (kind == kinds::process_killed) return bring_back(r);
    if (kind == kinds::process_restarted) return ok_status();  // the restarted process is its own entry
    if (kind == kinds::proxy_toxic) return remove_toxic(r);
    if (kind == kinds::nft_table || kind == kinds::tbf_qdisc) {
      // A tool still changing the system (its runner died while it ran) is stopped and waited for
      // first: what it does must have happened, or never happen, before the state is read.
      if (auto tool = process_in(r, "tool_pid", "tool_start_time")) {
        if (auto s = stop_recorded_tool(tool->pid, tool->start_time); !s) return s;
      }
    }
    if (kind == kinds::rollback) return undo_rollback(r.dump());
    if (kind == kinds::nft_table) {
      return remove_nft_table(r.value("namespace", std::string()), r.at("table").get<std::string>());
    }
    if (kind == kinds::tbf_qdisc) {
      return remove_tbf(r.at("namespace").get<std::string>(), r.at("interface").get<std::string>(),
                        r.at("handle").get<std::string>(), r.value("prior", std::string()));
    }
  } catch (const nlohmann::json::exception& e) {
    return Error{"ledger record of kind " + std::string(kind) + " is incomplete: " + e.what()};
  }
  return Error{"unknown ledger entry kind '" + std::string(kind) + "'"};
}

}  // namespace chaosplus::faults
