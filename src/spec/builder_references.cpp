#include "spec/builder.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <span>

#include "spec/address.h"
#include "spec/fault_catalog.h"
#include "spec/interpolate.h"
#include "spec/kernel_params.h"
#include "spec/schema.h"
#include "spec/suggest.h"
#include "spec/text_rules.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec::reading {

void Builder::check_references(const Experiment& experiment) {
  for (const auto& use : target_uses_) {
    const std::string& name = use.node->text;
    if (std::find(declared_targets_.begin(), declared_targets_.end(), name) == declared_targets_.end()) {
      std::string message = use.user + " names target '" + name + "', which is not defined";
      if (auto guess = closest_match(name, declared_targets_)) message += "; did you mean '" + *guess + "'?";
      message +=
          declared_targets_.empty() ? " (no targets are defined)" : " (defined: " + join_names(declared_targets_) + ")";
      report(*use.node, message);
      continue;
    }
    const Target* target = experiment.find_target(name);
    if (target == nullptr) continue;  // its own problems are already reported
    if (!target_has(*target, use.needs)) {
      report(*use.node, use.user + " needs a target with " + std::string(describe(use.needs)) + ", but target '" +
                            name + "' has " + describe_target(*target));
      continue;
    }
    const auto& [peer_node, peer] = use.peer;
    if (peer_node != nullptr && target->endpoint) {
      auto host = canonical_ip(target->endpoint->host);  // "localhost" stands for both families
      if (host && is_ipv6(*host) != is_ipv6(peer)) {
        report(*peer_node, "peer: found '" + peer + "', but target '" + name + "' has endpoint address " + *host +
                               " of the other IP family, expected an " + (is_ipv6(*host) ? "IPv6" : "IPv4") +
                               " peer (no packet could match)");
      }
    }
  }
  for (const auto& use : load_uses_) {
    const std::string& name = use.name;
    if (std::find(declared_loads_.begin(), declared_loads_.end(), name) != declared_loads_.end()) continue;
    std::string message = use.label + " watches load '" + name + "', which is not defined";
    if (auto guess = closest_match(name, declared_loads_)) message += "; did you mean '" + *guess + "'?";
    message += declared_loads_.empty() ? " (no phase has a load)" : " (defined: " + join_names(declared_loads_) + ")";
    report(*use.node, message);
  }
  for (const auto& use : guardrail_uses_) {
    const Guardrail& guardrail = experiment.guardrails[use.index];
    const std::string& name = guardrail.probe;
    if (std::find(declared_probes_.begin(), declared_probes_.end(), name) == declared_probes_.end()) {
      std::string message = use.label + " watches probe '" + name + "', which is not defined";
      if (auto guess = closest_match(name, declared_probes_)) message += "; did you mean '" + *guess + "'?";
      message +=
          declared_probes_.empty() ? " (no probes are defined)" : " (defined: " + join_names(declared_probes_) + ")";
      report(*use.probe_node, message);
      continue;
    }
    auto found = continuous_probes_.find(name);
    if (found == continuous_probes_.end()) continue;  // its own problems are already reported
    if (!found->second) {
      report(*use.probe_node, use.label + " watches probe '" + name +
                                  "', which has no 'every', expected a continuous probe (add every: 1s to it)");
      continue;
    }
    // A window that can never hold min_samples results would never trip.
    const auto most = guardrail.over / *found->second + 1;
    if (most < guardrail.min_samples) {
      const YamlNode* at = use.over_node ? use.over_node : use.min_samples_node ? use.min_samples_node : use.probe_node;
      report(*at, use.label + " looks at " + format_duration(guardrail.over) + " of probe '" + name + "' (every " +
                      format_duration(*found->second) + "), at most " + std::to_string(most) +
                      " results, fewer than min_samples " + std::to_string(guardrail.min_samples) +
                      ", expected a longer window or fewer min_samples");
    }
  }
}

std::string Builder::describe_target(const Target& target) {
  std::vector<std::string> parts;
  if (target.process) parts.emplace_back("'process'");
  if (target.attach)
    parts.emplace_back(target.attach->restart_command.empty() ? "'attach' without 'restart_command'" : "'attach'");
  if (target.endpoint) parts.emplace_back("'endpoint'");
  if (target.proxy) parts.emplace_back("'proxy'");
  if (parts.empty()) return "nothing";
  std::string out = "only ";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? " and " : "") + parts[i];
  return out;
}

}  // namespace chaosplus::spec::reading
