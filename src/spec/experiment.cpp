#include "spec/experiment.h"

#include "core/event_bus.h"

namespace chaosplus::spec {

std::string Endpoint::to_string() const {
  // IPv6 literals need brackets to keep the port apart.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

const Target* Experiment::find_target(std::string_view target_name) const {
  for (const auto& target : targets) {
    if (target.name == target_name) return &target;
  }
  return nullptr;
}

const Probe* Experiment::find_probe(std::string_view probe_name) const {
  for (const auto& probe : steady_state.probes) {
    if (probe.name == probe_name) return &probe;
  }
  return nullptr;
}

namespace {

// What an unresolved extension activity makes: it refuses to start, so a model that skipped
// extension::resolve fails loudly instead of running nothing.
class UnresolvedActivity final : public Activity {
 public:
  explicit UnresolvedActivity(std::string extension) : extension_(std::move(extension)) {}
  Status start(EventBus&, HaltSwitch&) override {
    return Error{"the activity of extension '" + extension_ + "' was not checked against its describe reply"};
  }
  void stop() override {}
  Result<std::vector<Judgment>> finish() override { return std::vector<Judgment>{}; }

 private:
  std::string extension_;
};

}  // namespace

std::unique_ptr<Activity> ExtensionActivityUse::make(const ActivityContext&) const {
  return std::make_unique<UnresolvedActivity>(call.extension);
}

}  // namespace chaosplus::spec
