#include "fuzz/chaos_context.h"

#include <algorithm>

#include "core/event_bus.h"

namespace chaosplus::fuzz {

ChaosContext::ChaosContext() : state_(std::make_shared<State>()) {}

void ChaosContext::attach(EventBus& bus) {
  // The subscriber holds the state, not the context: the bus may outlive the context (or the
  // other way round), and events keep arriving from the runner's threads.
  bus.subscribe([state = state_](const Event& e) {
    const std::string& t = e.type;
    if (t == "phase.started") {
      std::lock_guard lock(state->mutex);
      state->phase = e.text("phase");
    } else if (t == "phase.ended") {
      std::lock_guard lock(state->mutex);
      if (state->phase == e.text("phase")) state->phase.clear();  // between phases
    } else if (t == "fault.injected") {
      std::lock_guard lock(state->mutex);
      state->faults.push_back(e.text("summary"));
    } else if (t == "fault.reverted") {
      // Removed even when the revert failed: the runner then halts the run, and a fault that
      // stayed "active" forever would keep the probes from ever learning a baseline again.
      const std::string summary = e.text("summary");
      std::lock_guard lock(state->mutex);
      if (auto it = std::find(state->faults.begin(), state->faults.end(), summary); it != state->faults.end())
        state->faults.erase(it);
    } else if (t == "target.started" || t == "target.attached") {
      const auto pid = static_cast<std::int64_t>(e.number("pid"));
      std::lock_guard lock(state->mutex);
      state->pids[e.text("target")] = pid;
    }
  });
}

void ChaosContext::set_phase(const std::string& phase) {
  std::lock_guard lock(state_->mutex);
  state_->phase = phase;
}

void ChaosContext::set_target_pid(const std::string& target, std::int64_t pid) {
  std::lock_guard lock(state_->mutex);
  state_->pids[target] = pid;
}

std::string ChaosContext::phase() const {
  std::lock_guard lock(state_->mutex);
  return state_->phase;
}

std::vector<std::string> ChaosContext::active_faults() const {
  std::lock_guard lock(state_->mutex);
  return state_->faults;
}

bool ChaosContext::any_fault_active() const {
  std::lock_guard lock(state_->mutex);
  return !state_->faults.empty();
}

std::map<std::string, std::int64_t> ChaosContext::target_pids() const {
  std::lock_guard lock(state_->mutex);
  return state_->pids;
}

}  // namespace chaosplus::fuzz
