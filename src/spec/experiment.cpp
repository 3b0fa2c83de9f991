#include "spec/experiment.h"

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

}  // namespace chaosplus::spec
