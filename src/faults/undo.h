#pragma once
// Undoing a ledger entry by a process that did not make it (recover after a crash, halt of a dead
// run). Every kind of entry the runner writes is undone here, from its JSON record alone: a fault's
// entry by the family that wrote it (faults/registry.h), started processes and rollbacks here.
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "targets/process.h"

namespace chaosplus::faults {

namespace kinds {
inline constexpr std::string_view process_started = "process.started";  // a target or proxy server we started
inline constexpr std::string_view process_paused = "process.paused";
inline constexpr std::string_view process_killed = "process.killed";
inline constexpr std::string_view process_restarted = "process.restarted";
inline constexpr std::string_view proxy_toxic = "proxy.toxic";
inline constexpr std::string_view nft_table = "kernel.nft_table";  // partition, blackhole_port, reject, packet_loss
inline constexpr std::string_view tbf_qdisc = "kernel.tbf_qdisc";  // bandwidth_limit
// A rollback of the run, written when the run starts (after its targets are placed, before any
// fault); "undone" by running it (again). faults/rollback.h.
inline constexpr std::string_view rollback = "rollback";
}  // namespace kinds

// When an entry is undone relative to the others, as a normal run does it: faults first (newest
// first), then rollbacks (in the order written), then the processes the run started (newest first).
enum class UndoStage { fault = 0, rollback = 1, started_process = 2 };
UndoStage undo_stage(std::string_view kind);

// Record of a process the runner starts and must stop at the end; without an identity (written
// before the fork) it says only what is being started.
std::string started_process_record(const std::string& what, const std::optional<targets::ProcessId>& id);

// Undoes one entry. Ok when the original state is back (or there was nothing left to undo).
Status undo(std::string_view kind, std::string_view record);

// After a crashed run is undone: each family removes the run's files a kill left half-written in
// the state folder (FaultFamily::sweep_run).
void sweep_run(const std::string& state_dir, std::string_view run_id);

// A ledger kind whose faults a module above faults makes (fleet's "agent.fault": a fault an agent
// holds) brings its undo here at start-up, so `recover` and the next run reach it through undo()
// like any other kind. Registering a kind again replaces its undo.
using UndoFunction = Status (*)(std::string_view kind, std::string_view record);
void register_undo(std::string_view kind, UndoFunction function);

}  // namespace chaosplus::faults
