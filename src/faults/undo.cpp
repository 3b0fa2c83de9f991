#include "faults/undo.h"

#include <nlohmann/json.hpp>

#include <map>
#include <mutex>
#include <string>

#include "faults/registry.h"
#include "faults/rollback.h"
#include "targets/launch.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;

std::optional<targets::ProcessId> process_in(const nlohmann::json& r) {
  if (!r.contains("pid")) return std::nullopt;
  return targets::ProcessId{r.at("pid").get<int>(), r.value("start_time", 0ULL)};
}

struct ExtraUndos {
  std::mutex mutex;
  std::map<std::string, UndoFunction, std::less<>> by_kind;  // guarded by mutex
};

ExtraUndos& extra_undos() {
  static ExtraUndos undos;
  return undos;
}

UndoFunction extra_undo(std::string_view kind) {
  auto& undos = extra_undos();
  std::lock_guard lock(undos.mutex);
  auto it = undos.by_kind.find(kind);
  return it == undos.by_kind.end() ? nullptr : it->second;
}

}  // namespace

void register_undo(std::string_view kind, UndoFunction function) {
  auto& undos = extra_undos();
  std::lock_guard lock(undos.mutex);
  undos.by_kind[std::string(kind)] = function;
}

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

void sweep_run(const std::string& state_dir, std::string_view run_id) {
  for (const FaultFamily& family : fault_families()) {
    if (family.sweep_run != nullptr) family.sweep_run(state_dir, run_id);
  }
}

Status undo(std::string_view kind, std::string_view record) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  try {
    if (kind == kinds::process_started) {
      auto id = process_in(r);
      return id ? targets::stop_group(*id) : ok_status();  // no pid: it never started
    }
    if (kind == kinds::rollback) return undo_rollback(r.dump());
    // Every fault's entry: the family that wrote it undoes it (faults/registry.h).
    if (const FaultFamily* family = family_of_kind(kind)) return family->undo(kind, record);
    if (UndoFunction function = extra_undo(kind)) return function(kind, record);
  } catch (const nlohmann::json::exception& e) {
    return Error{"ledger record of kind " + std::string(kind) + " is incomplete: " + e.what()};
  }
  return Error{"unknown ledger entry kind '" + std::string(kind) + "'"};
}

}  // namespace chaosplus::faults
