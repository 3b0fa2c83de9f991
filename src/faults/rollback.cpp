#include "faults/rollback.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "faults/target_handle.h"
#include "faults/undo.h"
#include "targets/program.h"

namespace chaosplus::faults {
namespace {

// What a rollback keeps of its command's output (stdout and stderr together), for its error.
constexpr std::size_t kMaxOutput = 64 * 1024;

}  // namespace

std::string rollback_record(const spec::Rollback& rollback, const TargetHandle* target) {
  nlohmann::json r{{"name", rollback.name}};
  if (rollback.command) {
    r["command"] = rollback.command->argv;
    r["timeout_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(rollback.command->timeout).count();
    return r.dump();
  }
  r["restart_target"] = rollback.restart_target;
  if (target != nullptr && target->spec().attach) {
    // What recover needs to make sure an attached target runs (faults/undo.cpp, bring_back).
    const spec::ProcessAttach& attach = *target->spec().attach;
    r["target"] = target->name();
    if (auto id = target->process()) r["pid"] = id->pid, r["start_time"] = id->start_time;
    nlohmann::json rule = nlohmann::json::object();
    if (attach.pid) rule["pid"] = *attach.pid;
    if (!attach.pidfile.empty()) rule["pidfile"] = attach.pidfile;
    if (!attach.name.empty()) rule["name"] = attach.name;
    r["attach"] = std::move(rule);
    r["restart_command"] = attach.restart_command;
  }
  return r.dump();
}

std::string rollback_record_running(std::string_view record, const targets::ProcessId& run) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (!r.is_object()) r = nlohmann::json::object();
  r["run_pid"] = run.pid;
  r["run_start_time"] = run.start_time;
  return r.dump();
}

Status run_rollback_command(const spec::CommandProbe& command, const targets::BeforeExec& before_exec) {
  targets::ProgramOptions options;
  options.timeout = command.timeout;
  options.merge_stderr = true;
  options.max_output = kMaxOutput;
  options.before_exec = before_exec;
  auto run = targets::run_program(command.argv, options);
  if (!run) return Error{run.error()};
  if (run->timed_out)
    return Error{"timed out after " + format_duration(command.timeout) + targets::output_excerpt(run->out)};
  if (run->exit_code != 0)
    return Error{"exit code " + std::to_string(run->exit_code) + targets::output_excerpt(run->out)};
  return ok_status();
}

Status undo_rollback(std::string_view record) {
  const nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (!r.is_object()) return Error{"unreadable rollback record: " + std::string(record)};
  const std::string name = r.value("name", std::string("?"));
  if (r.contains("run_pid")) {
    // A run of it was going when the runner died: it (and what it started) goes before it runs again.
    const targets::ProcessId run{r.at("run_pid").get<int>(), r.value("run_start_time", 0ULL)};
    if (auto s = targets::stop_group(run, Duration::zero()); !s) {
      return Error{"rollback " + name + ": its earlier run is still going: " + s.error()};
    }
  }
  if (r.contains("command")) {
    spec::CommandProbe command;
    command.argv = r.at("command").get<std::vector<std::string>>();
    command.timeout = std::chrono::milliseconds(r.value("timeout_ms", 10000LL));
    if (auto s = run_rollback_command(command, {}); !s) return Error{"rollback " + name + ": " + s.error()};
    return ok_status();
  }
  if (r.contains("restart_command")) return undo(kinds::process_killed, record);  // an attached target runs again
  return ok_status();  // a target the run started: its process.started entry stops it
}

}  // namespace chaosplus::faults
