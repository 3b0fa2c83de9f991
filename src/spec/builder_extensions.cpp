// The loader's part for extensions (docs/extensions.md): the `extensions:` block and the faults and
// probes that use one. What an extension offers is not known here; extension::resolve checks the
// names and parameters against its describe reply.
#include "spec/builder.h"
#include "spec/suggest.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec::reading {

void Builder::read_extensions(const YamlNode& node, Experiment& experiment) {
  if (node.kind != Kind::map) {
    wrong_type(node, "extensions", "a map of extension names to {command: [program, args...]}");
    return;
  }
  for (const auto& entry : node.entries) {
    const std::string what = "extension '" + entry.key + "'";
    if (!is_identifier(entry.key)) {
      report_key(entry, "extensions: found the name '" + entry.key +
                            "', expected letters, digits, '.', '_' or '-', starting with a letter or digit");
      continue;
    }
    if (!check_map(entry.value, what, {"command", "env", "cwd", "log", "timeout"},
                   "a map with command and optionally env, cwd, log, timeout")) {
      continue;
    }
    ExtensionCommand command;
    command.name = entry.key;
    command.mark = entry.key_mark;
    if (const YamlNode* n = require(entry.value, "command", what,
                                    "the program and its arguments, e.g. command: [chaosplus-ext-corrupt-file]")) {
      if (auto argv = read_argv(*n, "command")) command.argv = std::move(*argv);
    }
    if (const YamlNode* n = get(entry.value, "env")) {
      for (auto& [k, v] :
           read_string_map(*n, "env", is_env_name, "an environment variable name (letters, digits, _)")) {
        command.env[k] = v;
      }
    }
    if (const YamlNode* n = get(entry.value, "cwd")) {
      if (auto text = read_text(*n, "cwd")) command.cwd = *text;
    }
    if (const YamlNode* n = get(entry.value, "log")) {
      if (auto text = read_text(*n, "log")) command.log = *text;
    }
    if (const YamlNode* n = get(entry.value, "timeout")) {
      if (auto d = read_duration(*n, "timeout", true)) command.timeout = *d;
    }
    declared_extensions_.push_back(command);
    experiment.extensions.push_back(std::move(command));
  }
}

std::optional<ExtensionCall> Builder::read_extension_call(const YamlNode& node, const std::string& what,
                                                          std::string_view operation_key) {
  const std::size_t before = issues.size();
  ExtensionCall call;
  call.mark = node.mark;
  if (const YamlNode* n = require(node, "extension", what, "the name of an extension declared under extensions:")) {
    if (auto text = read_text(*n, "extension")) {
      call.extension = *text;
      const auto declared = std::find_if(declared_extensions_.begin(), declared_extensions_.end(),
                                         [&](const ExtensionCommand& c) { return c.name == *text; });
      if (declared == declared_extensions_.end()) {
        std::vector<std::string> names;
        for (const auto& c : declared_extensions_) names.push_back(c.name);
        std::string message = what + " names extension '" + *text + "', which is not declared";
        if (auto guess = closest_match(*text, names)) message += "; did you mean '" + *guess + "'?";
        std::string list;
        for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
        report(*n, message + (names.empty() ? " (there is no extensions: block)" : " (declared: " + list + ")"));
      } else {
        call.command = *declared;
      }
    }
  }
  const std::string op(operation_key);
  if (const YamlNode* n = require(node, op, what, "the name of the " + op + " the extension offers")) {
    if (auto text = read_text(*n, op)) call.operation = *text;
    call.mark = n->mark;
  }
  if (const YamlNode* n = get(node, "params")) {
    if (n->kind != Kind::map) {
      wrong_type(*n, "params", "a map of the extension's parameter names to values");
    } else {
      call.param_marks[""] = n->mark;
      for (const auto& param : n->entries) {
        if (!param.value.is_scalar()) {
          wrong_type(param.value, param.key, "a text, number or boolean value");
          continue;
        }
        if (!without_nul(param.value, param.key)) continue;
        call.params[param.key] = param.value.text;
        call.param_marks[param.key] = param.value.mark;
      }
    }
  }
  if (issues.size() != before) return std::nullopt;
  return call;
}

std::optional<Fault> Builder::read_extension_fault(const YamlEntry& entry, const std::string& phase,
                                                   std::optional<Duration> phase_length) {
  const std::string what = "fault 'extension'";
  const YamlNode& settings = entry.value;
  if (!check_map(settings, what + " in " + phase, {"target", "at", "for", "extension", "fault", "params"},
                 "a map with target, extension, fault and optionally params, at, for")) {
    return std::nullopt;
  }
  const std::size_t before = issues.size();
  Fault fault;
  fault.type = entry.key;
  fault.mark = entry.key_mark;
  if (const YamlNode* target = require(settings, "target", what, "the name of a target, e.g. target: api")) {
    if (auto text = read_text(*target, "target")) {
      fault.target = *text;
      target_uses_.push_back({target, what, Capability::any});
    }
  }
  const YamlNode* at = get(settings, "at");
  if (at) {
    if (auto d = read_duration(*at, "at", false)) fault.at = *d;
  }
  const YamlNode* length = get(settings, "for");
  if (length) fault.length = read_duration(*length, "for", true);
  fault.extension = read_extension_call(settings, what, "fault");
  if (phase_length && issues.size() == before) check_fits_phase(fault, at, length, phase, *phase_length);
  if (issues.size() != before || !fault.extension) return std::nullopt;
  return fault;
}

std::optional<ExtensionProbe> Builder::read_extension_probe(const YamlNode& node, const std::string& probe) {
  const std::string what = "extension of " + probe;
  if (!check_map(node, what, {"extension", "probe", "params", "timeout"},
                 "a map with extension, probe and optionally params, timeout")) {
    return std::nullopt;
  }
  ExtensionProbe out;
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) out.timeout = *d;
  }
  auto call = read_extension_call(node, what, "probe");
  if (!call) return std::nullopt;
  out.call = std::move(*call);
  return out;
}

std::optional<ActivitySpec> Builder::read_extension_activity(const YamlNode& node, const std::string& phase_what,
                                                             const std::string& phase) {
  const std::string what = "extension of " + phase_what;
  if (!check_map(node, what, {"name", "extension", "activity", "params"},
                 "a map with extension, activity and optionally params, name")) {
    return std::nullopt;
  }
  std::string name = phase;  // like a load, it takes its phase's name unless it has one
  if (const YamlNode* n = get(node, "name")) {
    if (auto text = read_text(*n, "name")) name = *text;
  }
  auto call = read_extension_call(node, what, "activity");
  if (!call) return std::nullopt;
  return ActivitySpec{"extension", std::move(name), std::make_shared<const ExtensionActivityUse>(std::move(*call)),
                      node.mark};
}

}  // namespace chaosplus::spec::reading
