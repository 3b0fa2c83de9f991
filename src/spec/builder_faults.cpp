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

#include "core/loopback.h"
#include "spec/address.h"
#include "spec/fault_catalog.h"
#include "spec/interpolate.h"
#include "spec/kernel_params.h"
#include "spec/schema.h"
#include "spec/suggest.h"
#include "spec/text_rules.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec::reading {

std::optional<Fault> Builder::read_fault(const YamlNode& node, const std::string& phase,
                                         std::optional<Duration> phase_length) {
  const std::string known = comma_list(fault_type_names());
  if (node.kind != Kind::map || node.entries.empty()) {
    report(node, "fault: found " + describe_found(node) +
                     ", expected a fault written as a one-key map such as - kill: {target: api} (types: " + known +
                     ")");
    return std::nullopt;
  }
  if (node.entries.size() > 1) {
    std::vector<std::string_view> keys;
    for (const auto& entry : node.entries) keys.push_back(entry.key);
    report_key(node.entries[1], "fault has " + std::to_string(keys.size()) + " keys (" + comma_list(keys) +
                                    "), expected exactly one: the fault type, with its settings under it");
    return std::nullopt;
  }
  const YamlEntry& entry = node.entries.front();
  // Extension faults (docs/extensions.md) take their parameters from the extension, not the catalog.
  if (entry.key == "extension") return read_extension_fault(entry, phase, phase_length);
  const FaultType* type = find_fault_type(entry.key);
  if (type == nullptr) {
    std::string message = "unknown fault type '" + entry.key + "' in " + phase;
    const auto names = fault_type_names();
    if (auto guess = closest_match(entry.key, names)) message += ", did you mean '" + *guess + "'?";
    report_key(entry, message + " (known: " + known + ")");
    return std::nullopt;
  }
  const std::size_t before = issues.size();
  Fault fault;
  fault.type = entry.key;
  fault.mark = entry.key_mark;
  const std::string what = "fault '" + entry.key + "'";
  const YamlNode& settings = entry.value;
  std::vector<std::string_view> allowed(common_fault_keys().begin(), common_fault_keys().end());
  for (const auto& param : type->params) allowed.push_back(param.name);
  if (settings.kind != Kind::map) {
    wrong_type(settings, entry.key, "a map with target and the fault's settings, e.g. {target: api}");
    return std::nullopt;
  }
  for (const auto& setting : settings.entries) {
    if (std::find(allowed.begin(), allowed.end(), setting.key) != allowed.end()) continue;
    if (!type->open_params) {
      unknown_key(setting, what + " in " + phase, allowed);
    } else if (!setting.value.is_scalar()) {
      wrong_type(setting.value, setting.key, "a single value (text or number)");
    } else {
      fault.params[setting.key] = setting.value.text;  // the type's own check judges it
    }
  }
  const YamlNode* target = require(settings, "target", what, "the name of a target, e.g. target: api");
  std::optional<std::size_t> target_use;
  if (target) {
    if (auto text = read_text(*target, "target")) {
      fault.target = *text;
      target_use = target_uses_.size();
      target_uses_.push_back({target, what, type->needs});
    }
  }
  const YamlNode* at = get(settings, "at");
  if (at) {
    if (auto d = read_duration(*at, "at", false)) fault.at = *d;
  }
  const YamlNode* length = get(settings, "for");
  if (length) fault.length = read_duration(*length, "for", true);
  for (const auto& param : type->params) {
    const YamlNode* n = get(settings, param.name);
    if (n == nullptr) {
      if (param.required && !misspelled(settings, param.name)) {
        report(settings, "missing required key '" + std::string(param.name) + "' in " + what + ", expected " +
                             std::string(param.help));
      } else if (param.default_value.empty()) {
        fault.params[std::string(param.name)] = "";  // not given: the fault works it out
      } else {
        // Defaults are written as a user would write them (share "100%"), so they are normalized too.
        auto normalized = normalize_fault_param(param, param.default_value);
        fault.params[std::string(param.name)] = normalized ? *normalized : std::string(param.default_value);
      }
      continue;
    }
    if (!n->is_scalar()) {
      wrong_type(*n, param.name, param.help);
      continue;
    }
    auto normalized = normalize_fault_param(param, n->text);
    if (!normalized) {
      report(*n, std::string(param.name) + ": " + normalized.error());
      continue;
    }
    fault.params[std::string(param.name)] = *normalized;
  }
  // A host-wide fault scoped to its target (cpu, memory: scope: target) acts on the target's process.
  if (target_use && type->needs == Capability::any && fault.params.count("scope") &&
      fault.params.at("scope") == "target") {
    target_uses_[*target_use].needs = Capability::signal_process;
  }
  if (type->needs == Capability::endpoint && issues.size() == before) {
    check_packet_fault(settings, fault, target_use ? &target_uses_[*target_use] : nullptr);
  }
  // The type's own rules over its parameters together (faults/registry.h: each family defines them).
  if (type->check && issues.size() == before) {
    for (const auto& problem : type->check(fault)) {
      const YamlNode* about = problem.param.empty() ? nullptr : get(settings, problem.param);
      report(about != nullptr ? *about : settings,
             (problem.param.empty() ? what : problem.param) + ": " + problem.message);
    }
  }
  if (phase_length && issues.size() == before) check_fits_phase(fault, at, length, phase, *phase_length);
  if (issues.size() != before) return std::nullopt;
  return fault;
}

void Builder::check_packet_fault(const YamlNode& settings, const Fault& fault, TargetUse* use) {
  auto value = [&](const char* key) {
    auto it = fault.params.find(key);
    return it == fault.params.end() ? std::string() : it->second;
  };
  const std::string netns = value("namespace"), port = value("port"), address = value("address"), peer = value("peer");
  const std::string outside = "outside a network namespace chaosplus creates (namespace: chaosplus-...), ";
  if (netns.empty()) {
    if (port == "any") {
      report(*get(settings, "port"), "port: found 'any', expected a port number 1-65535: " + outside +
                                         "a kernel fault acts on one loopback port");
    }
    if (!address.empty() && !is_loopback_address(address)) {
      report(*get(settings, "address"), "address: found '" + address +
                                            "', expected a loopback address (127.0.0.0/8 or ::1): " + outside +
                                            "kernel faults act only on loopback");
    }
    if (!peer.empty() && !is_loopback_address(peer)) {
      report(*get(settings, "peer"), "peer: found '" + peer +
                                         "', expected a loopback address or network (127.0.0.0/8 or ::1): " + outside +
                                         "kernel faults act only on loopback");
    }
  }
  if (!address.empty() && !peer.empty() && is_ipv6(address) != is_ipv6(peer)) {
    report(*get(settings, "peer"), "peer: found '" + peer + "', but address '" + address +
                                       "' is of the other IP family, expected an " +
                                       (is_ipv6(address) ? "IPv6" : "IPv4") + " peer (no packet could match)");
  }
  if (use == nullptr) return;
  // The fault names its own endpoint; inside a namespace a port alone will do (any address there).
  if (!port.empty() && (!address.empty() || !netns.empty())) use->needs = Capability::any;
  if (address.empty() && !peer.empty()) use->peer = {get(settings, "peer"), peer};
}

void Builder::check_fits_phase(const Fault& fault, const YamlNode* at, const YamlNode* length, const std::string& phase,
                               Duration phase_length) {
  const std::string ends = phase + " lasts " + format_duration(phase_length);
  if (at && fault.at >= phase_length) {
    report(*at, "at: found " + format_duration(fault.at) + ", but " + ends +
                    ", expected an offset less than the phase duration");
  } else if (length && fault.length && fault.at + *fault.length > phase_length) {
    report(*length, "for: found " + format_duration(*fault.length) + " starting at " + format_duration(fault.at) +
                        ", ending at " + format_duration(fault.at + *fault.length) + ", but " + ends +
                        ", expected at + for to fit in the phase");
  }
}

std::vector<std::string_view> Builder::fault_type_names() {
  std::vector<std::string_view> names;
  for (const auto& type : fault_catalog()) names.push_back(type.name);
  return names;
}

}  // namespace chaosplus::spec::reading
