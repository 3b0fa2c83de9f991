#pragma once
// The loader's reader (private to src/spec): one Builder turns the checked YAML tree into the model,
// reporting every problem with its position. Its readers are shared by the part files, one per seam
// of the experiment file: builder.cpp (the document and the scalar readers), builder_targets.cpp,
// builder_probes.cpp (steady state), builder_guardrails.cpp, builder_phases.cpp (phases, rollbacks,
// outputs), builder_faults.cpp, builder_load.cpp and builder_references.cpp (cross-references).
#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/units.h"
#include "spec/experiment.h"
#include "spec/fault_catalog.h"
#include "spec/loader.h"
#include "spec/yaml_tree.h"

namespace chaosplus::fuzz {
class FuzzSpec;
}
namespace chaosplus::writes {
class WritesSpec;
}

namespace chaosplus::spec::reading {

using Kind = YamlNode::Kind;
using Keys = std::initializer_list<std::string_view>;

struct Issue {
  std::string pointer;
  Mark mark;
  std::string message;
};

inline constexpr std::string_view kLoopbackOnly =
    "only loopback targets (127.0.0.0/8, ::1, localhost) are allowed in this version";
inline constexpr std::array<std::string_view, 7> kHttpMethods{"GET",   "HEAD",   "POST",   "PUT",
                                                              "PATCH", "DELETE", "OPTIONS"};
inline constexpr std::size_t kMaxRegexLength = 1024;

inline std::string comma_list(std::span<const std::string_view> names) {
  std::string out;
  for (auto name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

inline bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 64 || !std::isalnum(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

inline bool is_experiment_name(std::string_view s) {
  // Starting with a letter or digit, it is never "." or ".." where {name} is a journal folder.
  if (s.empty() || s.size() > 100 || !std::isalnum(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

inline bool is_env_name(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// RFC 9110 token characters.
inline bool is_header_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) continue;
    if (std::strchr("!#$%&'*+.^_`|~-", c) == nullptr || c == '\0') return false;
  }
  return true;
}

inline bool same_endpoint(const Endpoint& a, const Endpoint& b) { return a.host == b.host && a.port == b.port; }

// Turns the checked YAML tree into the model, reporting every problem with its position. It never
// stops at the first problem: each part is checked on its own, and cross-references are checked
// against every name that was declared, so one typo yields one message.
class Builder {
 public:
  std::vector<Issue> issues;
  // The experiment file's folder: relative paths in it (a fuzz's openapi) are resolved against it.
  std::string base_dir;

  Experiment build(const YamlNode& root);

  // The load kind's reader (spec/activity_kinds.cpp): a phase's `load` block; `default_name` is the
  // phase's name, which a load without a name of its own takes.
  std::optional<ActivitySpec> read_load_activity(const YamlNode& node, const std::string& phase,
                                                 const std::string& default_name);
  // The fuzz kind's reader (builder_fuzz.cpp): a phase's `fuzz` block; `phase` is the phase's name,
  // which a fuzz without a name of its own takes.
  std::optional<ActivitySpec> read_fuzz_activity(const YamlNode& node, const std::string& phase_what,
                                                 const std::string& phase);
  // A phase's `security` block (builder_security.cpp): the security scan; like a load, it takes its
  // phase's name unless it has one.
  std::optional<ActivitySpec> read_security_activity(const YamlNode& node, const std::string& phase_what,
                                                     const std::string& phase);
  // A phase's `writes` block (builder_writes.cpp): the write workload; like a load, it takes its
  // phase's name unless it has one.
  std::optional<ActivitySpec> read_writes_activity(const YamlNode& node, const std::string& phase_what,
                                                   const std::string& phase);
  // A phase's `extension: {extension, activity, params, name}`: an activity of kind "extension".
  std::optional<ActivitySpec> read_extension_activity(const YamlNode& node, const std::string& phase_what,
                                                      const std::string& phase);

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

  void report(const YamlNode& at, std::string message);
  void report_key(const YamlEntry& at, std::string message);
  void wrong_type(const YamlNode& at, std::string_view label, std::string_view expected);

  // Reports a non-map and unknown keys (with the closest allowed key); true when `node` is a map.
  bool check_map(const YamlNode& node, std::string_view what, Keys allowed, std::string_view expected);
  bool check_map(const YamlNode& node, std::string_view what, std::span<const std::string_view> allowed,
                 std::string_view expected);

  void unknown_key(const YamlEntry& entry, std::string_view what, std::span<const std::string_view> allowed);

  // True when the map holds a near-miss of `key`, already reported as an unknown key with a suggestion.
  static bool misspelled(const YamlNode& map, std::string_view key);

  // "phase 'baseline'" when the map names itself, else just "phase".
  static std::string named(const YamlNode& node, std::string_view kind);

  static const YamlNode* get(const YamlNode& map, std::string_view key);

  const YamlNode* require(const YamlNode& map, std::string_view key, std::string_view what, std::string_view expected);

  // Names which of `keys` are present; reports when not exactly one (or, with allow_none, more than one).
  std::optional<std::string_view> exactly_one(const YamlNode& map, std::string_view what, Keys keys,
                                              bool allow_none = false);

  std::optional<std::string> read_text(const YamlNode& node, std::string_view label, bool allow_empty = false);

  // A NUL ends a C string: the program, the kernel or the log would see the value cut there.
  bool without_nul(const YamlNode& node, std::string_view label);

  // Names shown in output and the journal (phases, rollbacks, guardrails): printable text.
  std::optional<std::string> read_name(const YamlNode& node);

  // Text, or a number or boolean taken as written (argv items, env values, header values).
  std::optional<std::string> read_scalar_text(const YamlNode& node, std::string_view label);

  std::optional<std::vector<std::string>> read_argv(const YamlNode& node, std::string_view label);

  std::optional<Duration> read_duration(const YamlNode& node, std::string_view label, bool positive);

  std::optional<Comparison> read_comparison(const YamlNode& node, std::string_view label, QuantityKind kind);

  std::optional<long long> read_integer(const YamlNode& node, std::string_view label, long long min, long long max);

  bool check_loopback(const YamlNode& node, std::string_view label, const std::string& host);

  std::optional<Endpoint> read_endpoint(const YamlNode& node, std::string_view label);

  std::optional<std::string> read_url(const YamlNode& node, std::string_view label);

  std::optional<std::string> read_regex(const YamlNode& node, std::string_view label);

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

  void read_targets(const YamlNode& node, Experiment& experiment);

  Target read_target(const YamlEntry& entry);

  std::optional<ProcessLaunch> read_process(const YamlNode& node, const std::string& target);

  std::optional<ReadyCheck> read_ready(const YamlNode& node, const std::string& target);

  std::map<std::string, std::string> read_resolve(const YamlNode& node);

  std::optional<ProcessAttach> read_attach(const YamlNode& node, const std::string& target);

  std::optional<PatroniRole> read_patroni(const YamlNode& node, const std::string& target);

  std::optional<ProxyPlacement> read_proxy(const YamlNode& node, const std::string& target, const Target& parsed,
                                           bool has_endpoint);

  std::optional<AgentSelector> read_agent_selector(const YamlNode& node, const std::string& target);

  void read_steady_state(const YamlNode& node, Experiment& experiment);

  Probe read_probe(const YamlNode& node);

  std::optional<HttpProbe> read_http_probe(const YamlNode& node, const std::string& probe);

  std::optional<TcpProbe> read_tcp_probe(const YamlNode& node, const std::string& probe);

  std::optional<SqlProbe> read_sql_probe(const YamlNode& node, const std::string& probe);

  // Used by command probes and command rollbacks.
  std::optional<CommandProbe> read_command(const YamlNode& node, const std::string& what);

  Expectation read_expect(const YamlNode& node, const std::string& probe, std::string_view kind);

  std::vector<int> read_status(const YamlNode& node);

  Tolerance read_tolerance(const YamlNode& node);

  void read_guardrails(const YamlNode& node, Experiment& experiment);

  void read_phases(const YamlNode& node, Experiment& experiment);

  Phase read_phase(const YamlNode& node);

  // `default_name` is the phase's name, which a load without a name of its own takes.
  std::optional<Load> read_load(const YamlNode& node, const std::string& phase, const std::string& default_name);

  // tls: {verify: false} for a self-signed test server, or {ca_file: certs/ca.pem}; https:// only.
  void read_load_tls(const YamlNode& node, Load& load);
  // A load's `generators:` and `on:` (distributed load, docs/load.md).
  void read_generators(const YamlNode& load_node, Load& load);

  // stages: [ {to: 1000/s, over: 30s}, {hold: 1m} ] -- rates (/s) drive the open model, plain
  // numbers drive the number of users.
  void read_stages(const YamlNode& node, Load& load);

  // thresholds: ["p99 < 250ms", "error_rate < 1%", "rps > 100"]
  void read_thresholds(const YamlNode& node, Load& load);

  std::optional<Fault> read_fault(const YamlNode& node, const std::string& phase, std::optional<Duration> phase_length);

  // The rules of the nftables faults that no single setting shows (faults/nft_faults.cpp nft_setup
  // applies them again): on the host, one loopback port; address and peer of one address family;
  // a target endpoint unless the fault names its own address and port (inside a namespace, a port).
  void check_packet_fault(const YamlNode& settings, const Fault& fault, TargetUse* use);

  // A fault's `at` within its phase, and `at` + `for` no later than its end; one place for every
  // kind of fault (the catalog's and an extension's).
  void check_fits_phase(const Fault& fault, const YamlNode* at, const YamlNode* length, const std::string& phase,
                        Duration phase_length);
  static std::vector<std::string_view> fault_type_names();

  void read_rollbacks(const YamlNode& node, Experiment& experiment);

  // A fuzz's or security scan's `openapi:`: resolved against base_dir and loaded (errors reported).
  std::optional<std::string> read_openapi(const YamlNode& node);
  std::optional<fuzz::FuzzSpec> read_fuzz(const YamlNode& node, const std::string& phase_what,
                                          const std::string& phase);
  // thresholds: ["findings < 1", "findings{severity>=high} < 1"]
  void read_fuzz_thresholds(const YamlNode& node, fuzz::FuzzSpec& spec);
  std::vector<std::string> declared_fuzzes_;

  std::optional<writes::WritesSpec> read_writes(const YamlNode& node, const std::string& phase_what,
                                                const std::string& phase);
  // thresholds: ["rto < 15s", "lost_writes == 0"]; `patroni`: the block names Patroni APIs (a
  // promotion threshold needs them).
  void read_writes_thresholds(const YamlNode& node, writes::WritesSpec& spec, bool patroni);
  std::vector<std::string> declared_writes_;

  void read_outputs(const YamlNode& node, Experiment& experiment);

  void check_references(const Experiment& experiment);

  // Extensions (docs/extensions.md), builder_extensions.cpp: the `extensions:` block, and the use of
  // one by a fault (`- extension: {target, extension, fault, params}`) or a probe
  // (`extension: {extension, probe, params, timeout}`). Parameters are checked against the
  // extension's describe reply later, by extension::resolve.
  void read_extensions(const YamlNode& node, Experiment& experiment);
  std::optional<ExtensionCall> read_extension_call(const YamlNode& node, const std::string& what,
                                                   std::string_view operation_key);
  std::optional<Fault> read_extension_fault(const YamlEntry& entry, const std::string& phase,
                                            std::optional<Duration> phase_length);
  std::optional<ExtensionProbe> read_extension_probe(const YamlNode& node, const std::string& probe);
  std::vector<ExtensionCommand> declared_extensions_;

  static std::string describe_target(const Target& target);

  std::vector<std::string> declared_targets_;  // every name written, valid or not
  std::vector<std::string> declared_probes_;
  std::map<std::string, std::optional<Duration>> continuous_probes_;  // parsed probes -> every
  std::vector<TargetUse> target_uses_;
  std::vector<GuardrailUse> guardrail_uses_;
  struct LoadUse {
    const YamlNode* node;
    std::string label;
    std::string name;  // the load it names
  };
  std::vector<LoadUse> load_uses_;
  std::vector<std::string> declared_loads_;  // load names (a load defaults to its phase's name)
  std::vector<std::string> declared_scans_;  // security activity names (each defaults to its phase's name)
};

}  // namespace chaosplus::spec::reading
