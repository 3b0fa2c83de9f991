#include "spec/builder.h"

#include "spec/activity_kinds.h"

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

void Builder::read_phases(const YamlNode& node, Experiment& experiment) {
  if (node.kind != Kind::sequence) {
    wrong_type(node, "phases", "a list of phases");
    return;
  }
  if (node.items.empty()) {
    report(node, "phases: found an empty list, expected at least one phase");
    return;
  }
  std::map<std::string, int> lines;
  for (const auto& item : node.items) {
    const std::size_t before = issues.size();
    Phase phase = read_phase(item);
    if (!phase.name.empty()) {
      if (auto [it, fresh] = lines.emplace(phase.name, item.mark.line); !fresh) {
        report(*get(item, "name"), "phase name '" + phase.name + "' is used twice (first at line " +
                                       std::to_string(it->second) + "), expected unique names");
        continue;
      }
    }
    if (issues.size() == before) experiment.phases.push_back(std::move(phase));
  }
}

Phase Builder::read_phase(const YamlNode& node) {
  Phase phase;
  phase.mark = node.mark;
  // A phase's own keys, and one per kind of activity (spec/activity_kinds.h).
  std::vector<std::string_view> keys{"name", "duration", "faults"};
  std::string kinds;
  for (const ActivityKind& kind : activity_kinds()) {
    keys.push_back(kind.name);
    kinds += (kinds.empty() ? "" : ", ") + std::string(kind.name);
  }
  if (!check_map(node, named(node, "phase"), keys, "a phase: a map with name, duration, faults and " + kinds)) {
    return phase;
  }
  std::string what = "phase";
  if (const YamlNode* n = require(node, "name", "phase", "a name such as baseline")) {
    if (auto text = read_name(*n)) {
      phase.name = *text;
      what = "phase '" + *text + "'";
    }
  }
  std::optional<Duration> duration;
  if (const YamlNode* n = require(node, "duration", what, "how long the phase runs, e.g. duration: 30s")) {
    duration = read_duration(*n, "duration", true);
    if (duration) phase.duration = *duration;
  }
  if (const YamlNode* faults = get(node, "faults")) {
    if (faults->kind != Kind::sequence) {
      wrong_type(*faults, "faults", "a list of faults such as - kill: {target: api}");
    } else {
      for (const auto& item : faults->items) {
        if (auto fault = read_fault(item, what, duration)) phase.faults.push_back(std::move(*fault));
      }
    }
  }
  for (const ActivityKind& kind : activity_kinds()) {
    if (const YamlNode* n = get(node, kind.name)) {
      if (auto activity = kind.read(*this, *n, what, phase.name)) phase.activities.push_back(std::move(*activity));
    }
  }
  return phase;
}

void Builder::read_rollbacks(const YamlNode& node, Experiment& experiment) {
  if (node.kind != Kind::sequence) {
    wrong_type(node, "rollbacks", "a list of rollbacks");
    return;
  }
  for (std::size_t i = 0; i < node.items.size(); ++i) {
    const YamlNode& item = node.items[i];
    const std::string what = "rollback #" + std::to_string(i + 1);
    if (!check_map(item, what, {"name", "command", "restart"},
                   "a rollback: a map with command: {run: [...]} or restart: {target: name}")) {
      continue;
    }
    const std::size_t before = issues.size();
    Rollback rollback;
    rollback.mark = item.mark;
    if (const YamlNode* n = get(item, "name")) {
      if (auto text = read_name(*n)) rollback.name = *text;
    }
    auto kind = exactly_one(item, what, {"command", "restart"});
    if (kind == "command") {
      rollback.command = read_command(*get(item, "command"), "command of " + what);
    } else if (kind == "restart") {
      const YamlNode& restart = *get(item, "restart");
      if (check_map(restart, "restart of " + what, {"target"}, "a map with target: <name>")) {
        if (const YamlNode* t = require(restart, "target", "restart of " + what, "the name of a target")) {
          if (auto text = read_text(*t, "target")) {
            rollback.restart_target = *text;
            target_uses_.push_back({t, what, Capability::restart_process});
          }
        }
      }
    }
    // Output never shows a nameless rollback: it is named after what it does.
    if (rollback.name.empty() && rollback.command && !rollback.command->argv.empty()) {
      rollback.name = "run " + rollback.command->argv.front();
    }
    if (rollback.name.empty() && !rollback.restart_target.empty()) rollback.name = "restart " + rollback.restart_target;
    if (issues.size() == before) experiment.rollbacks.push_back(std::move(rollback));
  }
}

void Builder::read_outputs(const YamlNode& node, Experiment& experiment) {
  if (!check_map(node, "outputs", {"journal"}, "a map with journal: path")) return;
  if (const YamlNode* n = get(node, "journal")) {
    if (auto text = read_text(*n, "journal")) {
      // A file may not aim the journal outside the runs folder (run as root, it could overwrite any file).
      if (auto problem = journal_pattern_problem(*text)) {
        report(*n, "journal: " + *problem);
      } else {
        experiment.outputs.journal = *text;
      }
    }
  }
}

}  // namespace chaosplus::spec::reading
