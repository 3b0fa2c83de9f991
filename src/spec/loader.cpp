#include "spec/loader.h"

#include <pthread.h>

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
#include <regex>
#include <span>

#include "spec/address.h"
#include "spec/fault_catalog.h"
#include "spec/interpolate.h"
#include "spec/kernel_params.h"
#include "spec/schema.h"
#include "spec/suggest.h"
#include "spec/text_rules.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec {
namespace {

using Kind = YamlNode::Kind;
using Keys = std::initializer_list<std::string_view>;

struct Issue {
  std::string pointer;
  Mark mark;
  std::string message;
};

constexpr std::string_view kLoopbackOnly =
    "only loopback targets (127.0.0.0/8, ::1, localhost) are allowed in this version";
constexpr std::array<std::string_view, 7> kHttpMethods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
constexpr std::size_t kMaxRegexLength = 1024;

std::string comma_list(std::span<const std::string_view> names) {
  std::string out;
  for (auto name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 64 || !std::isalnum(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool is_experiment_name(std::string_view s) {
  // Starting with a letter or digit, it is never "." or ".." where {name} is a journal folder.
  if (s.empty() || s.size() > 100 || !std::isalnum(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_env_name(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// RFC 9110 token characters.
bool is_header_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) continue;
    if (std::strchr("!#$%&'*+.^_`|~-", c) == nullptr || c == '\0') return false;
  }
  return true;
}

bool same_endpoint(const Endpoint& a, const Endpoint& b) { return a.host == b.host && a.port == b.port; }

// Turns the checked YAML tree into the model, reporting every problem with its position. It never
// stops at the first problem: each part is checked on its own, and cross-references are checked
// against every name that was declared, so one typo yields one message.
class Builder {
 public:
  std::vector<Issue> issues;

  Experiment build(const YamlNode& root) {
    Experiment experiment;
    if (root.kind == Kind::null) {
      report(root, "the file is empty, expected an experiment: a map with at least 'name' and 'phases'");
      return experiment;
    }
    if (!check_map(root, "the experiment",
                   {"name", "description", "targets", "steady_state", "guardrails", "phases", "rollbacks", "outputs"},
                   "an experiment: a map with at least 'name' and 'phases'")) {
      return experiment;
    }
    if (const YamlNode* n = require(root, "name", "the experiment", "a name such as checkout-survives-db-kill")) {
      if (auto text = read_text(*n, "name")) {
        if (is_experiment_name(*text)) {
          experiment.name = *text;
        } else {
          report(*n,
                 "name: found '" + *text +
                     "', expected 1-100 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit "
                     "(e.g. checkout-survives-db-kill)");
        }
      }
    }
    if (const YamlNode* n = get(root, "description")) {
      if (auto text = read_text(*n, "description", true)) experiment.description = *text;
    }
    if (const YamlNode* n = get(root, "targets")) read_targets(*n, experiment);
    if (const YamlNode* n = get(root, "steady_state")) read_steady_state(*n, experiment);
    if (const YamlNode* n = get(root, "guardrails")) read_guardrails(*n, experiment);
    if (const YamlNode* n = require(root, "phases", "the experiment", "a list of phases")) read_phases(*n, experiment);
    if (const YamlNode* n = get(root, "rollbacks")) read_rollbacks(*n, experiment);
    if (const YamlNode* n = get(root, "outputs")) read_outputs(*n, experiment);
    check_references(experiment);
    return experiment;
  }

 private:
  // Checks waiting until every target and probe is known.
  struct TargetUse {
    const YamlNode* node;
    std::string user;  // "fault 'kill'", "rollback 'restart'"
    Capability needs;
    // A kernel fault's peer when the endpoint's address comes from the target: node and canonical text.
    std::pair<const YamlNode*, std::string> peer{nullptr, {}};
  };
  struct GuardrailUse {
    const YamlNode* probe_node;
    const YamlNode* over_node;         // may be null
    const YamlNode* min_samples_node;  // may be null
    std::size_t index;                 // into Experiment::guardrails
    std::string label;                 // "guardrail 'name'" or "guardrail #2"
  };

  // ---- reporting ---------------------------------------------------------------------------

  void report(const YamlNode& at, std::string message) { issues.push_back({at.pointer, at.mark, std::move(message)}); }
  void report_key(const YamlEntry& at, std::string message) {
    issues.push_back({at.value.pointer, at.key_mark, std::move(message)});
  }
  void wrong_type(const YamlNode& at, std::string_view label, std::string_view expected) {
    report(at, std::string(label) + ": found " + describe_found(at) + ", expected " + std::string(expected));
  }

  // ---- maps --------------------------------------------------------------------------------

  // Reports a non-map and unknown keys (with the closest allowed key); true when `node` is a map.
  bool check_map(const YamlNode& node, std::string_view what, Keys allowed, std::string_view expected) {
    if (node.kind != Kind::map) {
      report(node, std::string(what) + ": found " + describe_found(node) + ", expected " + std::string(expected));
      return false;
    }
    const std::vector<std::string_view> names(allowed);
    for (const auto& entry : node.entries) {
      if (std::find(names.begin(), names.end(), entry.key) == names.end()) unknown_key(entry, what, names);
    }
    return true;
  }

  void unknown_key(const YamlEntry& entry, std::string_view what, std::span<const std::string_view> allowed) {
    std::string message = "unknown key '" + entry.key + "' in " + std::string(what);
    if (auto guess = closest_match(entry.key, allowed)) {
      message += ", did you mean '" + *guess + "'?";
    } else {
      message += ", expected one of " + comma_list(allowed);
    }
    report_key(entry, message);
  }

  // True when the map holds a near-miss of `key`, already reported as an unknown key with a suggestion.
  static bool misspelled(const YamlNode& map, std::string_view key) {
    const std::array<std::string_view, 1> wanted{key};
    for (const auto& entry : map.entries) {
      if (entry.key != key && closest_match(entry.key, wanted)) return true;
    }
    return false;
  }

  // "phase 'baseline'" when the map names itself, else just "phase".
  static std::string named(const YamlNode& node, std::string_view kind) {
    const YamlNode* name = node.kind == Kind::map ? get(node, "name") : nullptr;
    if (name && name->kind == Kind::string && !name->text.empty() && name->text.size() <= 64) {
      return std::string(kind) + " '" + name->text + "'";
    }
    return std::string(kind);
  }

  static const YamlNode* get(const YamlNode& map, std::string_view key) {
    const YamlEntry* entry = map.find(key);
    return entry ? &entry->value : nullptr;
  }

  const YamlNode* require(const YamlNode& map, std::string_view key, std::string_view what, std::string_view expected) {
    const YamlNode* node = get(map, key);
    if (node == nullptr && !misspelled(map, key)) {
      report(map, "missing required key '" + std::string(key) + "' in " + std::string(what) + ", expected " +
                      std::string(expected));
    }
    return node;
  }

  // Names which of `keys` are present; reports when not exactly one (or, with allow_none, more than one).
  std::optional<std::string_view> exactly_one(const YamlNode& map, std::string_view what, Keys keys,
                                              bool allow_none = false) {
    std::vector<const YamlEntry*> present;
    for (auto key : keys) {
      if (const YamlEntry* entry = map.find(key)) present.push_back(entry);
    }
    const std::vector<std::string_view> names(keys);
    if (present.empty()) {
      if (!allow_none) {
        report(map, std::string(what) + " has none of " + comma_list(names) + ", expected exactly one");
      }
      return std::nullopt;
    }
    if (present.size() > 1) {
      // Point at the later one: the earlier is usually the intended one.
      std::sort(present.begin(), present.end(), [](const YamlEntry* a, const YamlEntry* b) {
        return std::tie(a->key_mark.line, a->key_mark.column) < std::tie(b->key_mark.line, b->key_mark.column);
      });
      report_key(*present[1], std::string(what) + " has both '" + present[0]->key + "' and '" + present[1]->key +
                                  "', expected exactly one of " + comma_list(names));
      return std::nullopt;
    }
    return std::string_view(present.front()->key);
  }

  // ---- scalars -----------------------------------------------------------------------------

  std::optional<std::string> read_text(const YamlNode& node, std::string_view label, bool allow_empty = false) {
    if (node.kind != Kind::string) {
      wrong_type(node, label, "text");
      return std::nullopt;
    }
    if (node.text.empty() && !allow_empty) {
      report(node, std::string(label) + ": found empty text, expected a value");
      return std::nullopt;
    }
    if (!without_nul(node, label)) return std::nullopt;
    return node.text;
  }

  // A NUL ends a C string: the program, the kernel or the log would see the value cut there.
  bool without_nul(const YamlNode& node, std::string_view label) {
    const std::size_t at = node.text.find('\0');
    if (at == std::string::npos) return true;
    report(node, std::string(label) + ": found a NUL character (\\0) at character " + std::to_string(at + 1) +
                     ", expected text without NUL");
    return false;
  }

  // Names shown in output and the journal (phases, rollbacks, guardrails): printable text.
  std::optional<std::string> read_name(const YamlNode& node) {
    auto text = read_text(node, "name");
    if (!text) return std::nullopt;
    for (std::size_t i = 0; i < text->size(); ++i) {
      if (is_control((*text)[i])) {
        report(node, "name: found the control character " + shown_control((*text)[i]) + " at character " +
                         std::to_string(i + 1) + ", expected printable text");
        return std::nullopt;
      }
    }
    return text;
  }

  // Text, or a number or boolean taken as written (argv items, env values, header values).
  std::optional<std::string> read_scalar_text(const YamlNode& node, std::string_view label) {
    if (!node.is_scalar()) {
      wrong_type(node, label, "a string");
      return std::nullopt;
    }
    if (!without_nul(node, label)) return std::nullopt;
    return node.text;
  }

  std::optional<std::vector<std::string>> read_argv(const YamlNode& node, std::string_view label) {
    if (node.kind != Kind::sequence) {
      wrong_type(node, label, "a list of strings (the program and its arguments)");
      return std::nullopt;
    }
    if (node.items.empty()) {
      report(node, std::string(label) + ": found an empty list, expected a list of strings starting with the program");
      return std::nullopt;
    }
    std::vector<std::string> argv;
    bool ok = true;
    for (std::size_t i = 0; i < node.items.size(); ++i) {
      const YamlNode& item = node.items[i];
      if (!item.is_scalar()) {
        // `[sh, -c, echo a: b]`: the unquoted ': ' made the argument a one-entry map.
        const bool colon_trap = item.kind == Kind::map && item.entries.size() == 1 &&
                                (item.entries[0].value.is_scalar() || item.entries[0].value.kind == Kind::null);
        const std::string hint = colon_trap ? " (an unquoted ': ' made '" + item.entries[0].key + ": " +
                                                  item.entries[0].value.text + "' a map: quote the argument, \"" +
                                                  item.entries[0].key + ": " + item.entries[0].value.text + "\")"
                                            : "";
        report(item, std::string(label) + "[" + std::to_string(i) + "]: found " + describe_found(item) +
                         ", expected a list of strings" + hint);
        ok = false;
        continue;
      }
      if (!without_nul(item, std::string(label) + "[" + std::to_string(i) + "]")) {
        ok = false;
        continue;
      }
      argv.push_back(item.text);
    }
    if (!ok) return std::nullopt;
    if (argv.front().empty()) {
      report(node.items.front(), std::string(label) + ": found an empty program name, expected the program to run");
      return std::nullopt;
    }
    return argv;
  }

  std::optional<Duration> read_duration(const YamlNode& node, std::string_view label, bool positive) {
    if (!node.is_scalar()) {
      wrong_type(node, label, "a duration such as 500ms, 10s or 1m30s");
      return std::nullopt;
    }
    auto d = parse_duration(node.text);
    if (!d) {
      report(node, std::string(label) + ": " + d.error());
      return std::nullopt;
    }
    if (positive && d->count() <= 0) {
      report(node, std::string(label) + ": found " + node.text + ", expected a duration greater than zero");
      return std::nullopt;
    }
    return *d;
  }

  std::optional<Comparison> read_comparison(const YamlNode& node, std::string_view label, QuantityKind kind) {
    const char* example =
        kind == QuantityKind::duration ? "a comparison such as \"< 300ms\"" : "a comparison such as \">= 99%\"";
    if (node.kind != Kind::string) {
      wrong_type(node, label, example);
      return std::nullopt;
    }
    auto c = parse_comparison(node.text, kind);
    if (!c) {
      report(node, std::string(label) + ": " + c.error());
      return std::nullopt;
    }
    return *c;
  }

  std::optional<long long> read_integer(const YamlNode& node, std::string_view label, long long min, long long max) {
    const std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (node.kind != Kind::integer) {
      wrong_type(node, label, range);
      return std::nullopt;
    }
    long long value = 0;
    std::string_view digits = node.text;
    if (digits.starts_with('+')) digits.remove_prefix(1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || value < min || value > max) {
      wrong_type(node, label, range);
      return std::nullopt;
    }
    return value;
  }

  bool check_loopback(const YamlNode& node, std::string_view label, const std::string& host) {
    if (is_loopback_host(host)) return true;
    report(node, std::string(label) + ": host '" + host + "' is not a loopback address; " + std::string(kLoopbackOnly));
    return false;
  }

  std::optional<Endpoint> read_endpoint(const YamlNode& node, std::string_view label) {
    if (node.kind != Kind::string) {
      wrong_type(node, label, "an address host:port such as 127.0.0.1:8080");
      return std::nullopt;
    }
    auto endpoint = parse_endpoint(node.text);
    if (!endpoint) {
      report(node, std::string(label) + ": " + endpoint.error());
      return std::nullopt;
    }
    if (!check_loopback(node, label, endpoint->host)) return std::nullopt;
    return *endpoint;
  }

  std::optional<std::string> read_url(const YamlNode& node, std::string_view label) {
    if (node.kind != Kind::string) {
      wrong_type(node, label, "a URL such as http://127.0.0.1:8080/health");
      return std::nullopt;
    }
    auto url = parse_http_url(node.text);
    if (!url) {
      report(node, std::string(label) + ": " + url.error());
      return std::nullopt;
    }
    if (!check_loopback(node, label, url->endpoint.host)) return std::nullopt;
    return node.text;
  }

  std::optional<std::string> read_regex(const YamlNode& node, std::string_view label) {
    auto text = read_text(node, label);
    if (!text) return std::nullopt;
    if (text->size() > kMaxRegexLength) {
      report(node, std::string(label) + ": found a regular expression of " + std::to_string(text->size()) +
                       " characters, expected at most " + std::to_string(kMaxRegexLength));
      return std::nullopt;
    }
    try {
      std::regex compiled(*text, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      report(node, std::string(label) + ": '" + *text +
                       "' is not a valid regular expression (ECMAScript syntax): " + e.what());
      return std::nullopt;
    }
    return text;
  }

  // A map of names to scalar values (env, headers); `valid_key` checks each name.
  template <typename KeyCheck>
  std::vector<std::pair<std::string, std::string>> read_string_map(const YamlNode& node, std::string_view label,
                                                                   KeyCheck valid_key, std::string_view key_rule) {
    std::vector<std::pair<std::string, std::string>> out;
    if (node.kind != Kind::map) {
      wrong_type(node, label, "a map of names to values");
      return out;
    }
    for (const auto& entry : node.entries) {
      if (!valid_key(entry.key)) {
        report_key(entry,
                   std::string(label) + ": found the name '" + entry.key + "', expected " + std::string(key_rule));
        continue;
      }
      if (auto value = read_scalar_text(entry.value, entry.key)) out.emplace_back(entry.key, *value);
    }
    return out;
  }

  // ---- targets -----------------------------------------------------------------------------

  void read_targets(const YamlNode& node, Experiment& experiment) {
    if (node.kind != Kind::map) {
      wrong_type(node, "targets", "a map of target names to targets");
      return;
    }
    std::map<std::string, const YamlEntry*> listens;
    for (const auto& entry : node.entries) {
      declared_targets_.push_back(entry.key);
      const std::size_t before = issues.size();
      if (!is_identifier(entry.key)) {
        report_key(
            entry,
            "target name '" + entry.key +
                "' is not a valid name, expected letters, digits, '.', '_' or '-', starting with a letter or digit");
      }
      Target target = read_target(entry);
      if (issues.size() != before) continue;
      if (target.proxy) {
        const std::string listen = target.proxy->listen.to_string();
        if (auto [it, fresh] = listens.emplace(listen, &entry); !fresh) {
          report(*get(*get(entry.value, "proxy"), "listen"),
                 "listen: " + listen + " is already the proxy address of target '" + it->second->key +
                     "', expected a different port for each proxy");
          continue;
        }
      }
      experiment.targets.push_back(std::move(target));
    }
  }

  Target read_target(const YamlEntry& entry) {
    Target target;
    target.name = entry.key;
    target.mark = entry.key_mark;
    const YamlNode& node = entry.value;
    const std::string what = "target '" + entry.key + "'";
    if (!check_map(node, what, {"process", "attach", "endpoint", "proxy"},
                   "a target: a map with process, attach or endpoint (and optionally proxy)")) {
      return target;
    }
    const YamlNode* process = get(node, "process");
    const YamlNode* attach = get(node, "attach");
    const YamlNode* endpoint = get(node, "endpoint");
    if (!process && !attach && !endpoint) {
      report(node, what +
                       " has none of process, attach, endpoint, expected at least one (what the runner starts, "
                       "attaches to, or reaches)");
    }
    if (process && attach) {
      report_key(*node.find("attach"), what + " has both 'process' and 'attach', expected one of them");
    }
    if (process) target.process = read_process(*process, what);
    if (attach) target.attach = read_attach(*attach, what);
    if (endpoint) target.endpoint = read_endpoint(*endpoint, "endpoint");
    if (const YamlNode* proxy = get(node, "proxy"))
      target.proxy = read_proxy(*proxy, what, target, endpoint != nullptr);
    return target;
  }

  std::optional<ProcessLaunch> read_process(const YamlNode& node, const std::string& target) {
    const std::string what = "process of " + target;
    if (!check_map(node, what, {"command", "env", "cwd", "ready"},
                   "a map with command and optionally env, cwd, ready")) {
      return std::nullopt;
    }
    ProcessLaunch launch;
    if (const YamlNode* n = require(node, "command", what,
                                    "the program and its arguments, e.g. command: [demo-shop-api, --port, \"8080\"]")) {
      if (auto argv = read_argv(*n, "command")) launch.command = std::move(*argv);
    }
    if (const YamlNode* n = get(node, "env")) {
      for (auto& [k, v] :
           read_string_map(*n, "env", is_env_name, "an environment variable name (letters, digits, _)")) {
        launch.env[k] = v;
      }
    }
    if (const YamlNode* n = get(node, "cwd")) {
      if (auto text = read_text(*n, "cwd")) launch.cwd = *text;
    }
    if (const YamlNode* n = get(node, "ready")) launch.ready = read_ready(*n, target);
    return launch;
  }

  std::optional<ReadyCheck> read_ready(const YamlNode& node, const std::string& target) {
    const std::string what = "ready check of " + target;
    if (!check_map(node, what, {"http", "tcp", "command", "timeout"},
                   "a map with http: URL, tcp: host:port or command: [program, args...]"))
      return std::nullopt;
    ReadyCheck ready;
    auto kind = exactly_one(node, what, {"http", "tcp", "command"});
    if (kind == "http") {
      if (auto url = read_url(*get(node, "http"), "http")) ready.http_url = *url;
    } else if (kind == "tcp") {
      ready.tcp = read_endpoint(*get(node, "tcp"), "tcp");
    } else if (kind == "command") {
      if (auto argv = read_argv(*get(node, "command"), "command")) ready.command = std::move(*argv);
    }
    if (const YamlNode* n = get(node, "timeout")) {
      if (auto d = read_duration(*n, "timeout", true)) ready.timeout = *d;
    }
    return ready;
  }

  std::optional<ProcessAttach> read_attach(const YamlNode& node, const std::string& target) {
    const std::string what = "attach of " + target;
    if (!check_map(node, what,
                   {"pid", "pidfile", "name", "pid_command", "pid_url", "pid_field", "restart_command", "ready"},
                   "a map with one of pid, pidfile, name, pid_command, pid_url (and optionally restart_command, "
                   "ready)")) {
      return std::nullopt;
    }
    ProcessAttach attach;
    auto kind = exactly_one(node, what, {"pid", "pidfile", "name", "pid_command", "pid_url"});
    if (kind == "pid") {
      if (auto pid = read_integer(*get(node, "pid"), "pid", 1, INT_MAX)) attach.pid = static_cast<int>(*pid);
    } else if (kind == "pidfile") {
      if (auto text = read_text(*get(node, "pidfile"), "pidfile")) attach.pidfile = *text;
    } else if (kind == "name") {
      const YamlNode& n = *get(node, "name");
      if (auto text = read_text(n, "name")) {
        if (text->size() > 15) {
          report(n, "name: found '" + *text + "' (" + std::to_string(text->size()) +
                        " characters), expected the process name as in /proc/<pid>/comm, at most 15 characters");
        } else {
          attach.name = *text;
        }
      }
    } else if (kind == "pid_command") {
      if (auto argv = read_argv(*get(node, "pid_command"), "pid_command")) attach.pid_command = std::move(*argv);
    } else if (kind == "pid_url") {
      if (auto url = read_url(*get(node, "pid_url"), "pid_url")) attach.pid_url = *url;
    }
    if (const YamlEntry* field = node.find("pid_field")) {
      if (kind != "pid_url") {
        report_key(*field, "pid_field: only used with pid_url, expected pid_url next to it (or no pid_field)");
      } else if (auto text = read_text(field->value, "pid_field")) {
        attach.pid_field = *text;
      }
    }
    if (const YamlNode* n = get(node, "restart_command")) {
      if (auto argv = read_argv(*n, "restart_command")) attach.restart_command = std::move(*argv);
    }
    if (const YamlNode* n = get(node, "ready")) attach.ready = read_ready(*n, target);
    return attach;
  }

  std::optional<ProxyPlacement> read_proxy(const YamlNode& node, const std::string& target, const Target& parsed,
                                           bool has_endpoint) {
    const std::string what = "proxy of " + target;
    if (!check_map(node, what, {"listen", "upstream"},
                   "a map with listen: host:port and optionally upstream: host:port")) {
      return std::nullopt;
    }
    std::optional<Endpoint> listen;
    std::optional<Endpoint> upstream;
    if (const YamlNode* n = require(node, "listen", what, "the address the proxy listens on, e.g. 127.0.0.1:18080")) {
      listen = read_endpoint(*n, "listen");
    }
    if (const YamlNode* n = get(node, "upstream")) {
      upstream = read_endpoint(*n, "upstream");
    } else if (has_endpoint) {
      upstream = parsed.endpoint;  // may be empty if the endpoint itself was wrong (already reported)
    } else {
      report(node, what +
                       " has no 'upstream' and the target has no 'endpoint', expected upstream: host:port "
                       "(where the proxy forwards to)");
    }
    if (!listen || !upstream) return std::nullopt;
    if (same_endpoint(*listen, *upstream)) {
      report(*get(node, "listen"), "listen: found " + listen->to_string() +
                                       ", which is also the upstream, expected a different address (the proxy would "
                                       "forward to itself)");
      return std::nullopt;
    }
    return ProxyPlacement{*listen, *upstream};
  }

  // ---- probes ------------------------------------------------------------------------------

  void read_steady_state(const YamlNode& node, Experiment& experiment) {
    if (!check_map(node, "steady_state", {"probes", "after"},
                   "a map with probes: [...] and optionally after: {within: 30s}"))
      return;
    if (const YamlNode* after = get(node, "after")) {
      if (check_map(*after, "steady_state.after", {"within"}, "a map with within: a duration, e.g. {within: 30s}")) {
        if (const YamlNode* n = get(*after, "within")) {
          if (auto d = read_duration(*n, "within", true)) experiment.steady_state.after_within = *d;
        }
      }
    }
    const YamlNode* probes = get(node, "probes");
    if (probes == nullptr) return;
    if (probes->kind != Kind::sequence) {
      wrong_type(*probes, "probes", "a list of probes");
      return;
    }
    std::map<std::string, int> lines;
    for (const auto& item : probes->items) {
      const std::size_t before = issues.size();
      Probe probe = read_probe(item);
      if (!probe.name.empty()) {
        declared_probes_.push_back(probe.name);
        if (auto [it, fresh] = lines.emplace(probe.name, item.mark.line); !fresh) {
          report(*get(item, "name"), "probe name '" + probe.name + "' is used twice (first at line " +
                                         std::to_string(it->second) + "), expected unique names");
          continue;
        }
      }
      if (issues.size() != before) continue;
      continuous_probes_[probe.name] = probe.every;
      experiment.steady_state.probes.push_back(std::move(probe));
    }
  }

  Probe read_probe(const YamlNode& node) {
    Probe probe;
    probe.mark = node.mark;
    if (!check_map(node, named(node, "probe"), {"name", "http", "tcp", "command", "expect", "every", "tolerance"},
                   "a probe: a map with name and one of http, tcp, command")) {
      return probe;
    }
    std::string what = "probe";
    if (const YamlNode* n = require(node, "name", "probe", "a name such as checkout-ok")) {
      if (auto text = read_text(*n, "name")) {
        what = "probe '" + *text + "'";
        if (is_identifier(*text)) {
          probe.name = *text;
        } else {
          report(*n, "name: found '" + *text +
                         "', expected letters, digits, '.', '_' or '-', starting with a letter or digit (at most 64)");
        }
      }
    }
    // Each kind present is read (and its problems reported) even when more than one is present.
    auto kind = exactly_one(node, what, {"http", "tcp", "command"});
    if (const YamlNode* n = get(node, "http")) {
      if (auto http = read_http_probe(*n, what)) probe.kind = std::move(*http);
    }
    if (const YamlNode* n = get(node, "tcp")) {
      if (auto tcp = read_tcp_probe(*n, what)) probe.kind = std::move(*tcp);
    }
    if (const YamlNode* n = get(node, "command")) {
      if (auto command = read_command(*n, "command of " + what)) probe.kind = std::move(*command);
    }
    if (const YamlNode* n = get(node, "expect"); n && kind) probe.expect = read_expect(*n, what, *kind);
    if (const YamlNode* n = get(node, "every")) probe.every = read_duration(*n, "every", true);
    if (const YamlEntry* entry = node.find("tolerance")) {
      if (!node.find("every")) {
        report_key(*entry, "tolerance in " + what +
                               " applies only to a continuous probe, expected 'every' (e.g. every: 1s) beside it");
      }
      probe.tolerance = read_tolerance(entry->value);
    } else if (probe.every) {
      probe.tolerance = Tolerance{Comparison{CompareOp::greater_equal, 0.95}, std::nullopt};
    }
    return probe;
  }

  std::optional<HttpProbe> read_http_probe(const YamlNode& node, const std::string& probe) {
    const std::string what = "http of " + probe;
    if (!check_map(node, what, {"method", "url", "headers", "body", "timeout"},
                   "a map with url and optionally method, headers, body, timeout")) {
      return std::nullopt;
    }
    HttpProbe http;
    if (const YamlNode* n = get(node, "method")) {
      if (auto text = read_text(*n, "method")) {
        if (std::find(kHttpMethods.begin(), kHttpMethods.end(), *text) != kHttpMethods.end()) {
          http.method = *text;
        } else {
          report(*n, "method: found '" + *text + "', expected one of " + comma_list(kHttpMethods));
        }
      }
    }
    if (const YamlNode* n = require(node, "url", what, "a URL such as http://127.0.0.1:8080/health")) {
      if (auto url = read_url(*n, "url")) http.url = *url;
    }
    if (const YamlNode* n = get(node, "headers")) {
      http.headers = read_string_map(*n, "headers", is_header_name, "a header name (letters, digits and -)");
    }
    if (const YamlNode* n = get(node, "body")) {
      if (auto text = read_text(*n, "body", true)) http.body = *text;
    }
    if (const YamlNode* n = get(node, "timeout")) {
      if (auto d = read_duration(*n, "timeout", true)) http.timeout = *d;
    }
    return http;
  }

  std::optional<TcpProbe> read_tcp_probe(const YamlNode& node, const std::string& probe) {
    const std::string what = "tcp of " + probe;
    if (!check_map(node, what, {"address", "timeout"}, "a map with address: host:port and optionally timeout")) {
      return std::nullopt;
    }
    TcpProbe tcp;
    if (const YamlNode* n = require(node, "address", what, "an address such as 127.0.0.1:5432")) {
      if (auto endpoint = read_endpoint(*n, "address")) tcp.address = *endpoint;
    }
    if (const YamlNode* n = get(node, "timeout")) {
      if (auto d = read_duration(*n, "timeout", true)) tcp.timeout = *d;
    }
    return tcp;
  }

  // Used by command probes and command rollbacks.
  std::optional<CommandProbe> read_command(const YamlNode& node, const std::string& what) {
    if (!check_map(node, what, {"run", "timeout"}, "a map with run: [program, args...] and optionally timeout")) {
      return std::nullopt;
    }
    CommandProbe command;
    if (const YamlNode* n = require(node, "run", what, "the program and its arguments, e.g. run: [pg_isready, -q]")) {
      if (auto argv = read_argv(*n, "run")) command.argv = std::move(*argv);
    }
    if (const YamlNode* n = get(node, "timeout")) {
      if (auto d = read_duration(*n, "timeout", true)) command.timeout = *d;
    }
    return command;
  }

  Expectation read_expect(const YamlNode& node, const std::string& probe, std::string_view kind) {
    Expectation expect;
    const std::string what = "expect of " + probe;
    if (node.kind != Kind::map) {
      wrong_type(node, "expect", "a map of expectations");
      return expect;
    }
    static constexpr std::array<std::string_view, 4> http_keys{"status", "body_contains", "body_regex", "latency"};
    static constexpr std::array<std::string_view, 1> tcp_keys{"latency"};
    static constexpr std::array<std::string_view, 4> command_keys{"exit_code", "output_contains", "output_regex",
                                                                  "latency"};
    static constexpr std::array<std::string_view, 7> all_keys{"status",    "body_contains",   "body_regex",  "latency",
                                                              "exit_code", "output_contains", "output_regex"};
    const std::span<const std::string_view> allowed = kind == "http"  ? std::span<const std::string_view>(http_keys)
                                                      : kind == "tcp" ? std::span<const std::string_view>(tcp_keys)
                                                                      : std::span<const std::string_view>(command_keys);
    for (const auto& entry : node.entries) {
      if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
      if (std::find(all_keys.begin(), all_keys.end(), entry.key) != all_keys.end()) {
        const char* article_kind = kind == "http" ? "an HTTP" : kind == "tcp" ? "a TCP" : "a command";
        report_key(entry, "'" + entry.key + "' does not apply to " + article_kind + " probe, expected one of " +
                              comma_list(allowed));
      } else {
        unknown_key(entry, what, allowed);
      }
    }
    auto has = [&](std::string_view key) {
      return std::find(allowed.begin(), allowed.end(), key) != allowed.end() ? get(node, key) : nullptr;
    };
    if (const YamlNode* n = has("status")) expect.status = read_status(*n);
    if (const YamlNode* n = has("body_contains")) expect.body_contains = read_text(*n, "body_contains");
    if (const YamlNode* n = has("body_regex")) expect.body_regex = read_regex(*n, "body_regex");
    if (const YamlNode* n = has("latency")) expect.latency = read_comparison(*n, "latency", QuantityKind::duration);
    if (const YamlNode* n = has("exit_code")) {
      if (auto code = read_integer(*n, "exit_code", 0, 255)) expect.exit_code = static_cast<int>(*code);
    }
    if (const YamlNode* n = has("output_contains")) expect.output_contains = read_text(*n, "output_contains");
    if (const YamlNode* n = has("output_regex")) expect.output_regex = read_regex(*n, "output_regex");
    return expect;
  }

  std::vector<int> read_status(const YamlNode& node) {
    std::vector<int> codes;
    if (node.kind == Kind::integer) {
      if (auto code = read_integer(node, "status", 100, 599)) codes.push_back(static_cast<int>(*code));
      return codes;
    }
    if (node.kind != Kind::sequence || node.items.empty()) {
      wrong_type(node, "status", "an HTTP status code from 100 to 599, or a non-empty list of them");
      return codes;
    }
    for (const auto& item : node.items) {
      if (auto code = read_integer(item, "status", 100, 599)) codes.push_back(static_cast<int>(*code));
    }
    return codes;
  }

  Tolerance read_tolerance(const YamlNode& node) {
    Tolerance tolerance{Comparison{CompareOp::greater_equal, 0.95}, std::nullopt};
    if (!check_map(node, "tolerance", {"success_rate", "window"}, "a map with success_rate and optionally window")) {
      return tolerance;
    }
    if (const YamlNode* n = get(node, "success_rate")) {
      if (auto c = read_comparison(*n, "success_rate", QuantityKind::percentage)) {
        if (c->op == CompareOp::greater_equal || c->op == CompareOp::greater) {
          tolerance.success_rate = *c;
        } else {
          report(*n, "success_rate: found '" + n->text +
                         "', expected '>= N%' or '> N%' (the share of results that must succeed)");
        }
      }
    }
    if (const YamlNode* n = get(node, "window")) tolerance.window = read_duration(*n, "window", true);
    return tolerance;
  }

  // ---- guardrails --------------------------------------------------------------------------

  void read_guardrails(const YamlNode& node, Experiment& experiment) {
    if (node.kind != Kind::sequence) {
      wrong_type(node, "guardrails", "a list of guardrails");
      return;
    }
    for (std::size_t i = 0; i < node.items.size(); ++i) {
      const YamlNode& item = node.items[i];
      const std::string what = "guardrail #" + std::to_string(i + 1);
      if (!check_map(item, what, {"name", "when"}, "a guardrail: a map with when: {probe, metric, over}")) continue;
      Guardrail guardrail;
      guardrail.mark = item.mark;
      const std::size_t before = issues.size();
      if (const YamlNode* n = get(item, "name")) {
        if (auto text = read_name(*n)) guardrail.name = *text;
      }
      const YamlNode* when =
          require(item, "when", what, "a condition such as when: {probe: api-ok, success_rate: \"< 80%\"}");
      if (when == nullptr ||
          !check_map(*when, "when of " + what,
                     {"probe", "load", "success_rate", "error_rate", "latency_p50", "latency_p90", "latency_p99",
                      "over", "for", "min_samples"},
                     "a map with probe (or load), one metric, and optionally over and min_samples")) {
        continue;
      }
      const YamlNode* probe = get(*when, "probe");
      const YamlNode* load = get(*when, "load");
      if (probe == nullptr && load == nullptr) {
        probe = require(*when, "probe", "when of " + what, "the name of a continuous probe (or load: a load's name)");
      } else if (probe != nullptr && load != nullptr) {
        report(*load, "when of " + what + " has both 'probe' and 'load', expected one of them");
      }
      if (probe) {
        if (auto text = read_text(*probe, "probe")) guardrail.probe = *text;
      } else if (load) {
        if (auto text = read_text(*load, "load")) guardrail.load = *text;
      }
      std::string condition_text;
      if (auto metric = exactly_one(*when, "when of " + what,
                                    {"success_rate", "error_rate", "latency_p50", "latency_p90", "latency_p99"})) {
        const YamlNode& n = *get(*when, *metric);
        const bool rate = *metric == "success_rate" || *metric == "error_rate";
        if (load && *metric == "success_rate") {
          report(n, "success_rate applies to probes, expected error_rate or latency_p50/p90/p99 for a load");
        } else if (probe && *metric == "error_rate") {
          report(n, "error_rate applies to loads, expected success_rate or latency_p50/p90/p99 for a probe");
        }
        guardrail.metric = *metric == "success_rate"  ? GuardrailMetric::success_rate
                           : *metric == "error_rate"  ? GuardrailMetric::error_rate
                           : *metric == "latency_p50" ? GuardrailMetric::latency_p50
                           : *metric == "latency_p90" ? GuardrailMetric::latency_p90
                                                      : GuardrailMetric::latency_p99;
        if (auto c = read_comparison(n, *metric, rate ? QuantityKind::percentage : QuantityKind::duration)) {
          guardrail.condition = *c;
          condition_text = std::string(*metric) + " " + n.text;
        }
      }
      const YamlNode* over = get(*when, "over");
      if (const YamlEntry* alias = when->find("for")) {
        if (over) {
          report_key(*alias, "when of " + what + " has both 'over' and 'for' (the same window), expected one of them");
        } else {
          over = &alias->value;
        }
      }
      if (over) {
        if (auto d = read_duration(*over, over == get(*when, "for") ? "for" : "over", true)) guardrail.over = *d;
      }
      const YamlNode* min_samples = get(*when, "min_samples");
      if (min_samples) {
        if (auto v = read_integer(*min_samples, "min_samples", 1, 1000000))
          guardrail.min_samples = static_cast<int>(*v);
      }
      if (issues.size() != before) continue;
      const std::string label = guardrail.name.empty() ? what : "guardrail '" + guardrail.name + "'";
      if (guardrail.name.empty()) {
        guardrail.name = (load ? guardrail.load : guardrail.probe) + " " + condition_text + " over " +
                         format_duration(guardrail.over);
      }
      if (load) {
        load_uses_.push_back({load, label});
      } else {
        guardrail_uses_.push_back({probe, over, min_samples, experiment.guardrails.size(), label});
      }
      experiment.guardrails.push_back(std::move(guardrail));
    }
  }

  // ---- phases ------------------------------------------------------------------------------

  void read_phases(const YamlNode& node, Experiment& experiment) {
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

  Phase read_phase(const YamlNode& node) {
    Phase phase;
    phase.mark = node.mark;
    if (!check_map(node, named(node, "phase"), {"name", "duration", "faults", "load"},
                   "a phase: a map with name, duration, faults and load")) {
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
    if (const YamlNode* n = get(node, "load")) phase.load = read_load(*n, what, phase.name);
    return phase;
  }

  // ---- load --------------------------------------------------------------------------------

  // `default_name` is the phase's name, which a load without a name of its own takes.
  std::optional<Load> read_load(const YamlNode& node, const std::string& phase, const std::string& default_name) {
    const std::string what = "load of " + phase;
    if (!check_map(node, what,
                   {"name", "url", "method", "headers", "body", "connections", "threads", "timeout", "rate", "stages",
                    "vus", "think", "scenario", "max_sessions", "seed", "tls", "thresholds"},
                   "a load: a map with url and a model (connections, rate or stages, vus)")) {
      return std::nullopt;
    }
    const std::size_t before = issues.size();
    Load load;
    load.mark = node.mark;
    load.name = default_name;
    const YamlNode* name = get(node, "name");
    if (name) {
      if (auto text = read_text(*name, "name")) {
        if (is_identifier(*text)) load.name = *text;
        else report(*name, "name: found '" + *text + "', expected letters, digits, '.', '_' or '-'");
      }
    }
    // Declared even when the rest of the block has problems, so guardrails naming it are not
    // reported as well.
    if (!load.name.empty()) {
      if (std::find(declared_loads_.begin(), declared_loads_.end(), load.name) != declared_loads_.end()) {
        report(name ? *name : node, "load name '" + load.name + "' is used twice, expected unique names");
      }
      declared_loads_.push_back(load.name);
    }
    if (const YamlNode* n = require(node, "url", what, "a URL such as http://127.0.0.1:8080/checkout")) {
      if (auto url = read_url(*n, "url")) load.url = *url;
    }
    if (const YamlNode* n = get(node, "method")) {
      if (auto text = read_text(*n, "method")) {
        if (std::find(kHttpMethods.begin(), kHttpMethods.end(), *text) != kHttpMethods.end()) load.method = *text;
        else report(*n, "method: found '" + *text + "', expected one of " + comma_list(kHttpMethods));
      }
    }
    if (const YamlNode* n = get(node, "headers")) {
      load.headers = read_string_map(*n, "headers", is_header_name, "a header name (letters, digits and -)");
    }
    if (const YamlNode* n = get(node, "body")) {
      if (auto text = read_text(*n, "body", true)) load.body = *text;
    }
    if (const YamlNode* n = get(node, "connections")) {
      if (auto v = read_integer(*n, "connections", 1, 100000)) load.connections = static_cast<int>(*v);
    }
    if (const YamlNode* n = get(node, "threads")) {
      if (auto v = read_integer(*n, "threads", 1, 64)) load.threads = static_cast<int>(*v);
    }
    if (const YamlNode* n = get(node, "timeout")) {
      if (auto d = read_duration(*n, "timeout", true)) load.timeout = *d;
    }
    if (const YamlNode* n = get(node, "rate")) {
      if (auto text = read_text(*n, "rate")) {
        auto rate = parse_rate(*text);
        if (rate && *rate > 0) load.rate = *rate;
        else
          report(*n,
                 "rate: " + (rate ? "'" + *text + "' is zero, expected a positive rate such as 200/s" : rate.error()));
      }
    }
    if (const YamlNode* n = get(node, "vus")) {
      if (auto v = read_integer(*n, "vus", 1, 10'000'000)) load.vus = static_cast<std::uint64_t>(*v);
    }
    if (const YamlNode* n = get(node, "think")) {
      if (auto d = read_duration(*n, "think", false)) load.think = *d;
    }
    if (const YamlNode* n = get(node, "scenario")) {
      if (auto text = read_text(*n, "scenario")) load.scenario = *text;
    }
    const YamlNode* max_sessions = get(node, "max_sessions");
    if (max_sessions) {
      if (auto v = read_integer(*max_sessions, "max_sessions", 1, 10'000'000)) {
        load.max_sessions = static_cast<std::uint64_t>(*v);
      }
    }
    if (const YamlNode* n = get(node, "seed")) {
      if (auto v = read_integer(*n, "seed", 0, 9'007'199'254'740'991)) load.seed = static_cast<std::uint64_t>(*v);
    }
    if (const YamlNode* n = get(node, "tls")) read_load_tls(*n, load);
    if (const YamlNode* n = get(node, "stages")) read_stages(*n, load);
    if (const YamlNode* n = get(node, "thresholds")) read_thresholds(*n, load);
    const bool open = load.rate > 0 || !load.rate_stages.empty();
    const bool users = load.vus > 0 || !load.vu_stages.empty();
    if (open && users) {
      report(node, what +
                       " mixes an arrival rate (rate, or stages with /s) with users (vus, stages without /s), "
                       "expected one model");
    }
    if (max_sessions && !open) {
      report(*max_sessions,
             "max_sessions: found without an arrival rate, expected it only with rate (or stages "
             "with /s) and a scenario, where each arrival runs the scenario once");
    }
    if (issues.size() != before) return std::nullopt;
    return load;
  }

  // tls: {verify: false} for a self-signed test server, or {ca_file: certs/ca.pem}; https:// only.
  void read_load_tls(const YamlNode& node, Load& load) {
    if (!check_map(node, "tls", {"verify", "ca_file"}, "a map with verify (true/false) and ca_file")) return;
    if (const YamlNode* n = get(node, "verify")) {
      if (n->kind != Kind::boolean) wrong_type(*n, "verify", "true or false");
      else load.tls_verify = n->text == "true" || n->text == "True" || n->text == "TRUE";
    }
    if (const YamlNode* n = get(node, "ca_file")) {
      if (auto text = read_text(*n, "ca_file")) load.tls_ca_file = *text;
    }
    if (!load.url.empty() && !load.url.starts_with("https://")) {
      report(node, "tls: found with " + load.url + ", expected an https:// url");
    }
  }

  // stages: [ {to: 1000/s, over: 30s}, {hold: 1m} ] -- rates (/s) drive the open model, plain
  // numbers drive the number of users.
  void read_stages(const YamlNode& node, Load& load) {
    if (node.kind != Kind::sequence || node.items.empty()) {
      wrong_type(node, "stages", "a non-empty list of stages such as {to: 1000/s, over: 30s} or {hold: 1m}");
      return;
    }
    std::optional<bool> per_second;
    double level = load.rate > 0 ? load.rate : static_cast<double>(load.vus);
    std::vector<LoadStage> stages;
    for (const auto& item : node.items) {
      if (!check_map(item, "stage", {"to", "over", "hold"}, "a stage: {to: 1000/s, over: 30s} or {hold: 1m}")) continue;
      if (const YamlNode* hold = get(item, "hold")) {
        if (get(item, "to") || get(item, "over")) {
          report(item, "stage: found 'hold' with 'to' or 'over', expected either {hold: D} or {to: N, over: D}");
          continue;
        }
        if (auto d = read_duration(*hold, "hold", true)) stages.push_back({*d, level});
        continue;
      }
      const YamlNode* to = require(item, "to", "stage", "the level to reach, e.g. to: 1000/s or to: 500");
      const YamlNode* over = require(item, "over", "stage", "how long the ramp takes, e.g. over: 30s");
      if (to == nullptr || over == nullptr) continue;
      auto d = read_duration(*over, "over", true);
      auto text = read_text(*to, "to");
      if (!d || !text) continue;
      const bool rate = text->find('/') != std::string::npos;
      if (per_second && *per_second != rate) {
        report(*to, "to: found '" + *text + "', expected every stage to be a rate (/s) or every stage a user count");
        continue;
      }
      per_second = rate;
      double target = 0;
      if (rate) {
        auto r = parse_rate(*text);
        if (!r) {
          report(*to, "to: " + r.error());
          continue;
        }
        target = *r;
      } else {
        auto v = read_integer(*to, "to", 0, 10'000'000);
        if (!v) continue;
        target = static_cast<double>(*v);
      }
      stages.push_back({*d, target});
      level = target;
    }
    if (per_second.value_or(true)) load.rate_stages = std::move(stages);
    else load.vu_stages = std::move(stages);
  }

  // thresholds: ["p99 < 250ms", "error_rate < 1%", "rps > 100"]
  void read_thresholds(const YamlNode& node, Load& load) {
    if (node.kind != Kind::sequence) {
      wrong_type(node, "thresholds", "a list such as [\"p99 < 250ms\", \"error_rate < 1%\"]");
      return;
    }
    static constexpr std::array<std::string_view, 8> kMetrics{"p50", "p90",        "p99", "p99.9",
                                                              "max", "error_rate", "rps", "avg"};
    for (const auto& item : node.items) {
      auto text = read_text(item, "threshold");
      if (!text) continue;
      std::string written = *text;
      auto space = written.find_first_of(" <>=");
      std::string metric = written.substr(0, space);
      // k6 writes p(99); both spellings are accepted.
      if (metric.size() > 3 && metric.starts_with("p(") && metric.back() == ')') {
        metric = "p" + metric.substr(2, metric.size() - 3);
      }
      if (std::find(kMetrics.begin(), kMetrics.end(), metric) == kMetrics.end()) {
        std::string message = "threshold: found metric '" + metric + "' in '" + written + "'";
        if (auto guess = closest_match(metric, kMetrics)) message += ", did you mean '" + *guess + "'?";
        else message += ", expected one of " + comma_list(kMetrics);
        report(item, message);
        continue;
      }
      const QuantityKind kind = metric == "error_rate" ? QuantityKind::percentage
                                : metric == "rps"      ? QuantityKind::number
                                                       : QuantityKind::duration;
      auto c = parse_comparison(space == std::string::npos ? "" : written.substr(space), kind);
      if (!c) {
        report(item, "threshold '" + written + "': " + c.error());
        continue;
      }
      load.thresholds.push_back({metric, *c, written, item.mark});
    }
  }

  std::optional<Fault> read_fault(const YamlNode& node, const std::string& phase,
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
      if (std::find(allowed.begin(), allowed.end(), setting.key) == allowed.end()) {
        unknown_key(setting, what + " in " + phase, allowed);
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
    if (type->needs == Capability::endpoint && issues.size() == before) {
      check_packet_fault(settings, fault, target_use ? &target_uses_[*target_use] : nullptr);
    }
    if (fault.type == "slicer" && issues.size() == before) check_slicer(settings, fault);
    if (phase_length && issues.size() == before) {
      const std::string ends = phase + " lasts " + format_duration(*phase_length);
      if (at && fault.at >= *phase_length) {
        report(*at, "at: found " + format_duration(fault.at) + ", but " + ends +
                        ", expected an offset less than the phase duration");
      } else if (length && fault.length && fault.at + *fault.length > *phase_length) {
        report(*length, "for: found " + format_duration(*fault.length) + " starting at " + format_duration(fault.at) +
                            ", ending at " + format_duration(fault.at + *fault.length) + ", but " + ends +
                            ", expected at + for to fit in the phase");
      }
    }
    if (issues.size() != before) return std::nullopt;
    return fault;
  }

  // The rules of the nftables faults that no single setting shows (faults/nft_faults.cpp nft_setup
  // applies them again): on the host, one loopback port; address and peer of one address family;
  // a target endpoint unless the fault names its own address and port (inside a namespace, a port).
  void check_packet_fault(const YamlNode& settings, const Fault& fault, TargetUse* use) {
    auto value = [&](const char* key) {
      auto it = fault.params.find(key);
      return it == fault.params.end() ? std::string() : it->second;
    };
    const std::string netns = value("namespace"), port = value("port"), address = value("address"),
                      peer = value("peer");
    const std::string outside = "outside a network namespace chaosplus creates (namespace: chaosplus-...), ";
    if (netns.empty()) {
      if (port == "any") {
        report(*get(settings, "port"), "port: found 'any', expected a port number 1-65535: " + outside +
                                           "a kernel fault acts on one loopback port");
      }
      if (!address.empty() && !is_loopback(address)) {
        report(*get(settings, "address"), "address: found '" + address +
                                              "', expected a loopback address (127.0.0.0/8 or ::1): " + outside +
                                              "kernel faults act only on loopback");
      }
      if (!peer.empty() && !is_loopback(peer)) {
        report(*get(settings, "peer"),
               "peer: found '" + peer + "', expected a loopback address or network (127.0.0.0/8 or ::1): " + outside +
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

  // The proxy refuses a slicer whose pieces could be empty or negative; say so at load time.
  void check_slicer(const YamlNode& settings, const Fault& fault) {
    const std::string average = fault.params.at("average_size"), variation = fault.params.at("size_variation");
    if (std::stoull(variation) < std::stoull(average)) return;
    const YamlNode* at = get(settings, "size_variation");
    report(at != nullptr ? *at : settings, "size_variation: found " + variation +
                                               " bytes, expected less than "
                                               "average_size (" +
                                               average + " bytes), so no piece is empty");
  }

  static std::vector<std::string_view> fault_type_names() {
    std::vector<std::string_view> names;
    for (const auto& type : fault_catalog()) names.push_back(type.name);
    return names;
  }

  // ---- rollbacks and outputs ---------------------------------------------------------------

  void read_rollbacks(const YamlNode& node, Experiment& experiment) {
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
      if (rollback.name.empty() && !rollback.restart_target.empty())
        rollback.name = "restart " + rollback.restart_target;
      if (issues.size() == before) experiment.rollbacks.push_back(std::move(rollback));
    }
  }

  void read_outputs(const YamlNode& node, Experiment& experiment) {
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

  // ---- references --------------------------------------------------------------------------

  void check_references(const Experiment& experiment) {
    for (const auto& use : target_uses_) {
      const std::string& name = use.node->text;
      if (std::find(declared_targets_.begin(), declared_targets_.end(), name) == declared_targets_.end()) {
        std::string message = use.user + " names target '" + name + "', which is not defined";
        if (auto guess = closest_match(name, declared_targets_)) message += "; did you mean '" + *guess + "'?";
        message += declared_targets_.empty() ? " (no targets are defined)"
                                             : " (defined: " + join_names(declared_targets_) + ")";
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
      const std::string& name = use.node->text;
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
        const YamlNode* at = use.over_node          ? use.over_node
                             : use.min_samples_node ? use.min_samples_node
                                                    : use.probe_node;
        report(*at, use.label + " looks at " + format_duration(guardrail.over) + " of probe '" + name + "' (every " +
                        format_duration(*found->second) + "), at most " + std::to_string(most) +
                        " results, fewer than min_samples " + std::to_string(guardrail.min_samples) +
                        ", expected a longer window or fewer min_samples");
      }
    }
  }

  static std::string describe_target(const Target& target) {
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

  std::vector<std::string> declared_targets_;  // every name written, valid or not
  std::vector<std::string> declared_probes_;
  std::map<std::string, std::optional<Duration>> continuous_probes_;  // parsed probes -> every
  std::vector<TargetUse> target_uses_;
  std::vector<GuardrailUse> guardrail_uses_;
  struct LoadUse {
    const YamlNode* node;
    std::string label;
  };
  std::vector<LoadUse> load_uses_;
  std::vector<std::string> declared_loads_;  // load names (a load defaults to its phase's name)
};

bool at_or_under(const std::string& pointer, const std::string& base) {
  return pointer == base || (pointer.size() > base.size() && pointer.starts_with(base) && pointer[base.size()] == '/');
}

LoadResult load(std::string_view text, const std::string& file_name, const Variables& variables) {
  LoadResult result;
  YamlDocument document = read_yaml(text, with_overrides(variables, process_environment()));
  std::vector<Issue> issues;
  for (auto& issue : document.issues) issues.push_back({issue.pointer, issue.mark, issue.message});

  if (document.root) {
    Builder builder;
    Experiment experiment = builder.build(*document.root);
    // A value whose interpolation failed holds its raw text: do not also complain about that text.
    const std::size_t reading_issues = issues.size();
    for (auto& issue : builder.issues) {
      bool poisoned = false;
      for (std::size_t i = 0; i < reading_issues; ++i) {
        poisoned = poisoned || (!issues[i].pointer.empty() && at_or_under(issue.pointer, issues[i].pointer));
      }
      if (!poisoned) issues.push_back(std::move(issue));
    }
    // The schema is the contract for editors and other tools; what it finds that the loader already
    // explained (at the same place or inside it) is not repeated in the schema's words.
    if (!document.oversized_scalar) {
      for (auto& schema_issue : check_against_schema(*document.root)) {
        bool explained = false;
        for (const auto& issue : issues) explained = explained || at_or_under(issue.pointer, schema_issue.pointer);
        if (!explained) issues.push_back({schema_issue.pointer, schema_issue.mark, schema_issue.message});
      }
    }
    if (issues.empty()) {
      experiment.source_path = file_name;
      result.experiment = std::move(experiment);
    }
  }
  std::stable_sort(issues.begin(), issues.end(), [](const Issue& a, const Issue& b) {
    return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
  });
  for (auto& issue : issues) {
    Diagnostic diagnostic{file_name, issue.mark.line, issue.mark.column, printable(issue.message)};
    const bool repeated = !result.errors.empty() && result.errors.back().line == diagnostic.line &&
                          result.errors.back().column == diagnostic.column &&
                          result.errors.back().message == diagnostic.message;
    if (!repeated) result.errors.push_back(std::move(diagnostic));
  }
  if (!result.errors.empty()) result.experiment.reset();
  return result;
}

// std::regex (in valijson's patterns and for the file's own regexes) and deep YAML recurse per
// character or level; a large private stack keeps that from overflowing a small caller stack.
constexpr std::size_t kLoaderStackBytes = 64u << 20;

LoadResult on_large_stack(const std::function<LoadResult()>& work) {
  struct Job {
    const std::function<LoadResult()>& work;
    LoadResult result;
    std::exception_ptr error;
  } job{work, {}, nullptr};
  pthread_attr_t attributes;
  if (pthread_attr_init(&attributes) != 0) return work();
  pthread_attr_setstacksize(&attributes, kLoaderStackBytes);
  pthread_t thread;
  const int created = pthread_create(
      &thread, &attributes,
      [](void* raw) -> void* {
        auto* j = static_cast<Job*>(raw);
        try {
          j->result = j->work();
        } catch (...) {
          j->error = std::current_exception();
        }
        return nullptr;
      },
      &job);
  pthread_attr_destroy(&attributes);
  if (created != 0) return work();  // no thread to be had: the caller's stack will have to do
  pthread_join(thread, nullptr);
  if (job.error) std::rethrow_exception(job.error);
  return std::move(job.result);
}

}  // namespace

std::string Diagnostic::to_string() const {
  if (line <= 0) return file + ": " + message;
  if (column <= 0) return file + ":" + std::to_string(line) + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

LoadResult load_experiment_text(std::string_view yaml, const std::string& file_name, const Variables& variables) {
  try {
    return on_large_stack([&] { return load(yaml, file_name, variables); });
  } catch (const std::exception& e) {
    // A defect of ours, not of the file; still a message rather than a crash.
    LoadResult result;
    result.errors.push_back({file_name, 0, 0, std::string("internal error while loading the experiment: ") + e.what()});
    return result;
  }
}

LoadResult load_experiment_file(const std::string& path, const Variables& variables) {
  LoadResult result;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    result.errors.push_back({path, 0, 0, "is a directory, expected an experiment file (YAML)"});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.errors.push_back({path, 0, 0, std::string("cannot read the file: ") + std::strerror(errno)});
    return result;
  }
  std::string text;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) break;  // read_yaml reports the size
  }
  return load_experiment_text(text, path, variables);
}

}  // namespace chaosplus::spec
