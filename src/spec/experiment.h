#pragma once
// The experiment model: plain, immutable-after-load structs that every other module reads.
// The loader (spec/loader.h) builds it from YAML after schema validation; each element keeps the
// line/column it came from so later errors can still point into the user's file.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/activity.h"
#include "core/agent_selector.h"
#include "core/mark.h"
#include "core/units.h"
#include "load/load_spec.h"

namespace chaosplus::spec {

using chaosplus::Mark;

struct Endpoint {
  std::string host;  // "127.0.0.1", "::1", "localhost"
  int port = 0;
  std::string to_string() const;  // "127.0.0.1:8080", "[::1]:8080"
};

// How the runner knows a process is ready: an HTTP GET answering 2xx, a TCP connect, or a command
// exiting 0 (e.g. redis-cli ping).
struct ReadyCheck {
  std::string http_url;              // set for an HTTP check
  std::optional<Endpoint> tcp;       // set for a TCP check
  std::vector<std::string> command;  // set for a command check (argv, no shell)
  Duration timeout = std::chrono::seconds(10);
};

// A process the runner starts, owns, and stops at the end.
struct ProcessLaunch {
  std::vector<std::string> command;        // argv; a bare name is looked up next to chaosplus, then in PATH
  std::map<std::string, std::string> env;  // added to the runner's environment
  std::string cwd;                         // empty = the runner's working directory
  std::optional<ReadyCheck> ready;
  // Names it resolves through the run's resolver (lower case) -> loopback address (docs/faults.md,
  // "DNS faults"); not empty = it is started with a resolv.conf naming that resolver.
  std::map<std::string, std::string> resolve;
};

// A process that already runs; exactly one of the ways (pid ... listen) is set.
struct ProcessAttach {
  std::optional<int> pid;
  std::string pidfile;
  std::string name;                      // exact process name (comm), must match exactly one process
  std::vector<std::string> pid_command;  // argv whose output is one pid (run without a shell)
  std::string pid_url;                   // loopback http URL whose body is a pid, or a JSON object holding one
  std::string pid_field;                 // with pid_url: the JSON field holding the pid ("" = the body is the number)
  std::optional<Endpoint> listen;  // the process listening on this TCP address (IP literal); set by patroni targets
  std::vector<std::string> restart_command;  // optional: how to bring it back after a kill
  std::optional<ReadyCheck> ready;           // optional: when it counts as back after a kill or restart
};

// The runner places a fault proxy listening on `listen` that forwards to `upstream`;
// clients of the target are configured to use `listen`.
struct ProxyPlacement {
  Endpoint listen;
  Endpoint upstream;
};

// A member of a Patroni cluster chosen by its role each time a fault is built (docs/databases.md):
// the runner asks the members' REST APIs who holds the role and acts on that member's postmaster
// (or its Patroni), recorded in the ledger by member and pid. Resolved by targets/patroni_target.h.
struct PatroniRole {
  std::vector<std::string> apis;               // "127.0.0.11:8008", ...: every member's REST API (loopback)
  std::string role = "primary";                // primary | replica | sync_replica | any
  std::string process = "postgres";            // postgres (the postmaster) | patroni
  std::vector<std::string> etcd;               // "127.0.0.21:2379", ...: for faults that cut a member off from etcd
  std::vector<std::string> restart;            // argv that starts a member's Patroni again; "{member}" is its name
  Duration timeout = std::chrono::seconds(5);  // for each REST API call
};

struct Target {
  std::string name;
  std::optional<ProcessLaunch> process;
  std::optional<ProcessAttach> attach;
  std::optional<PatroniRole> patroni;
  std::optional<Endpoint> endpoint;
  std::optional<ProxyPlacement> proxy;
  // The agents that hold the target (docs/agents.md): the runner asks them to start or attach it
  // and to run its faults; none = this host.
  std::optional<AgentSelector> on;
  Mark mark;
};

// An external extension (docs/extensions.md): an executable speaking JSON lines on stdin/stdout,
// declared once under `extensions:` and named by faults and probes.
struct ExtensionCommand {
  std::string name;
  std::vector<std::string> argv;                // no shell; a bare argv[0] is looked up next to chaosplus, then in PATH
  std::map<std::string, std::string> env;       // added to the runner's environment
  std::string cwd;                              // empty = the runner's working directory
  std::string log;                              // its stderr is appended here; empty = kept only for messages
  Duration timeout = std::chrono::seconds(30);  // per inject or revert request
  Mark mark;
};

// One use of an extension's fault or probe. `params` are as written; extension::resolve
// (extension/resolve.h) checks them against the extension's `describe` and fills `params_json`
// with the typed values sent to it.
struct ExtensionCall {
  std::string extension;  // name under `extensions:`
  std::string operation;  // the fault's or probe's name the extension offers
  std::map<std::string, std::string> params;
  std::map<std::string, Mark> param_marks;
  std::string params_json;   // set by extension::resolve
  ExtensionCommand command;  // a copy of the declaration, so a fault can be reverted from its record alone
  Mark mark;
};

struct HttpProbe {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration timeout = std::chrono::seconds(5);
};

struct TcpProbe {
  Endpoint address;
  Duration timeout = std::chrono::seconds(2);
};

struct CommandProbe {
  std::vector<std::string> argv;
  Duration timeout = std::chrono::seconds(10);
};

// A probe an extension offers: ok/value/message from its `probe` reply.
struct ExtensionProbe {
  ExtensionCall call;
  Duration timeout = std::chrono::seconds(10);
};

// A query through libpq (db::Connection), on a fresh connection per run; its rows, as text, are the
// probe's output. The connection string names loopback hosts only (checked when the file is read).
struct SqlProbe {
  std::string dsn;  // libpq key=value or postgresql:// URI; multi-host and target_session_attrs work
  std::string query;
  Duration timeout = std::chrono::seconds(5);  // connect and query together
};

// What a probe's outcome must satisfy to count as a success. Unset members are not checked.
struct Expectation {
  std::vector<int> status;  // HTTP: one of these (default: any 2xx)
  std::optional<std::string> body_contains;
  std::optional<std::string> body_regex;  // ECMAScript syntax, searched anywhere in the body
  std::optional<Comparison> latency;      // seconds, e.g. "< 300ms"
  std::optional<int> exit_code;           // command: default 0
  std::optional<std::string> output_contains;
  std::optional<std::string> output_regex;
  std::optional<Comparison> rows;    // sql: the number of rows returned, e.g. ">= 1"
  std::optional<std::string> value;  // sql: the first column of the first row, as text
};

// How many of a continuous probe's results may fail during the phases before the hypothesis deviates.
struct Tolerance {
  Comparison success_rate{CompareOp::greater_equal, 1.0};  // fraction
  std::optional<Duration> window;                          // sliding window; unset = over all results of the phases
};

struct Probe {
  std::string name;
  std::variant<HttpProbe, TcpProbe, CommandProbe, ExtensionProbe, SqlProbe> kind;
  Expectation expect;
  std::optional<Duration> every;  // set = also runs continuously during the phases
  std::optional<Tolerance> tolerance;
  Mark mark;
};

struct SteadyState {
  std::vector<Probe> probes;
  // `after: {within: 30s}`: the check after the reverts is tried again until every probe passes or
  // this much time has passed; the time it took is the run's time to recover. Unset: tried once.
  std::optional<Duration> after_within;
};

enum class GuardrailMetric { success_rate, latency_p50, latency_p90, latency_p99, error_rate };

// Abort the run when the metric of a probe (or of a phase's load), computed over the last `over`,
// meets `when`.
struct Guardrail {
  std::string name;   // defaults to "<probe> <metric> <condition> over <window>"
  std::string probe;  // one of probe and load is set
  std::string load;   // name of a phase's load block: error_rate and latency_p* of its per-second ticks
  GuardrailMetric metric = GuardrailMetric::success_rate;
  Comparison condition;  // fraction for success_rate, seconds for latencies
  Duration over = std::chrono::seconds(10);
  int min_samples = 3;
  Mark mark;
};

// One fault on the timeline. `params` holds the fault's own parameters as written, already checked
// against the fault catalog (spec/fault_catalog.h) so they parse.
struct Fault {
  std::string type;    // a fault type of the catalog (spec/fault_catalog.h): "kill", "latency", "reject", ...
  std::string target;  // name of a Target
  Duration at{0};      // offset from the start of its phase
  std::optional<Duration> length;  // "for:"; unset = until the end of the phase
  std::map<std::string, std::string> params;
  std::optional<ExtensionCall> extension;  // set for type "extension"
  Mark mark;
};

// The load kind of activity (`load:` in a phase) is the load engine's own model (load/load_spec.h).
using LoadThreshold = chaosplus::load::LoadThreshold;
using LoadStage = chaosplus::load::LoadStage;
using Load = chaosplus::load::LoadSpec;

// Something that runs during a phase: load today; fuzz, security scans, database workloads next
// (core/activity.h). The model holds it by kind; its settings are the kind's own, parsed once.
struct ActivitySpec {
  std::string kind;  // a kind of spec/activity_kinds.h: "load"
  std::string name;  // unique among the experiment's activities
  std::shared_ptr<const ActivityConfig> config;
  Mark mark;

  // The kind's settings, or nullptr when it is another kind.
  template <typename Config>
  const Config* as() const {
    return dynamic_cast<const Config*>(config.get());
  }
};

// The `extension` block of a phase as written: extension::resolve checks it against the
// extension's describe reply and replaces it with the runnable config (extension/activity.h).
class ExtensionActivityUse final : public ActivityConfig {
 public:
  explicit ExtensionActivityUse(ExtensionCall written) : call(std::move(written)) {}
  std::unique_ptr<Activity> make(const ActivityContext& context) const override;  // fails to start
  bool judges() const override { return true; }
  ExtensionCall call;
};

struct Phase {
  std::string name;
  Duration duration{0};
  std::vector<Fault> faults;
  std::vector<ActivitySpec> activities;  // started with the phase, stopped and judged at its end
  Mark mark;
};

// An action run after all faults are reverted, whatever the outcome.
struct Rollback {
  std::string name;
  std::optional<CommandProbe> command;  // run a command; it should exit 0
  std::string restart_target;           // or restart a target the runner started
  Mark mark;
};

struct Outputs {
  // A file name pattern below the runs folder (`run --runs-dir`, default "runs"): "{name}", "{time}"
  // (UTC, to the millisecond) and "{run}" (the run id, unique per run) are replaced.
  std::string journal = "{name}-{run}.jsonl";
};

struct Experiment {
  std::string name;
  std::string description;
  std::string source_path;      // the file it was loaded from
  std::vector<Target> targets;  // in file order
  std::vector<ExtensionCommand> extensions;
  SteadyState steady_state;
  std::vector<Guardrail> guardrails;
  std::vector<Phase> phases;
  std::vector<Rollback> rollbacks;
  Outputs outputs;

  const Target* find_target(std::string_view name) const;
  const Probe* find_probe(std::string_view name) const;
};

}  // namespace chaosplus::spec
