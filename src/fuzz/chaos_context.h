#pragma once
// What is happening to the system right now, as the run's event stream tells it: the phase, the
// faults that are on, the processes of the targets. The fuzzer and the security probes stamp every
// finding with it (the faults active when it appeared), and learn their baselines only while no
// fault is on. Outside a run (`chaosplus fuzz`, `chaosplus scan`) nothing is attached and no fault
// is ever active. Safe from any thread; it outlives the bus subscription (shared state).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace chaosplus {
class EventBus;
}

namespace chaosplus::fuzz {

class ChaosContext {
 public:
  ChaosContext();
  // Follows phase.started / phase.ended, fault.injected / fault.reverted, target.started /
  // target.attached on `bus` from now on.
  void attach(EventBus& bus);
  // What was true before attach(): the phase the activity starts in, and the targets' processes.
  void set_phase(const std::string& phase);
  void set_target_pid(const std::string& target, std::int64_t pid);

  std::string phase() const;
  std::vector<std::string> active_faults() const;  // their summaries, in injection order
  bool any_fault_active() const;
  std::map<std::string, std::int64_t> target_pids() const;

 private:
  struct State {
    mutable std::mutex mutex;
    std::string phase;
    std::vector<std::string> faults;
    std::map<std::string, std::int64_t> pids;
  };
  std::shared_ptr<State> state_;
};

}  // namespace chaosplus::fuzz
