#pragma once
// The catalog of fault types an experiment may use: for each type, its parameters (kind, default,
// whether required) and the target capability it needs. The types are not listed here: each fault
// family defines its own in its source file under faults/ (with its factory and undo), and
// faults::register_builtin_faults() (faults/registry.h) registers them all at start-up, so the
// loader, the schema (spec/schema_gen.h) and the docs tables read one description per type.
// The loader checks faults against the catalog and stores every parameter normalized in
// Fault::params, so the fault engines can parse the strings with core/units.h without re-checking:
//   duration  -> exact, e.g. "250ms", "1500ms", "2s"   (parse_duration)
//   signal    -> "SIGKILL", "SIGTERM", or a number       (parse_signal)
//   choice    -> one of FaultParam::choices, exactly as listed
//   byte_rate -> bytes per second as a plain integer, e.g. "64000" for "64KB/s" (parse_bytes)
//   status    -> an HTTP status code 200-599, e.g. "503"
//   share     -> a fraction from a percentage, e.g. "0.1" for "10%" (parse_percentage)
//   byte_size -> bytes as a plain integer, e.g. "1024" for "1KiB" (parse_bytes)
//   text      -> as written (HTTP method lists, paths, bodies: the proxy checks their shape)
//   port      -> "1".."65535" or "any"
//   ip_address -> canonical IP text (inet_ntop), e.g. "::1" for "0:0::1" (spec/kernel_params.h)
//   ip_network -> canonical IP or network with host bits cleared, e.g. "10.0.0.0/24" for "10.0.0.7/24"
//   namespace_name -> as written: "chaosplus-" and 1-48 of [A-Za-z0-9_.-]
//   interface_name -> as written: 1-15 of [A-Za-z0-9_.-]
//   boolean   -> "true" or "false" (YAML's true/false)
// An optional parameter whose default is empty is stored as "" when not written: "not given", and
// the fault works out the value itself (e.g. from the target's endpoint).
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/units.h"
#include "spec/experiment.h"

namespace chaosplus::spec {

enum class ParamKind {
  duration,
  signal,
  choice,
  byte_rate,
  status,
  share,
  byte_size,
  text,
  port,
  ip_address,
  ip_network,
  namespace_name,
  interface_name,
  boolean,
};

struct FaultParam {
  std::string_view name;
  ParamKind kind;
  std::string_view default_value;  // written form; empty with required = true
  bool required = false;
  std::span<const std::string_view> choices;  // for ParamKind::choice
  std::string_view help;                      // one line, for docs and error messages
};

// What a target must offer for a fault to act on it.
enum class Capability {
  signal_process,   // the runner can signal it: a `process` it starts, or an `attach`ed one
  restart_process,  // a `process`, or an `attach` with restart_command
  proxy,            // network faults act in the target's fault proxy: needs `proxy`
  endpoint,         // kernel packet faults: an `endpoint`, unless the fault gives `address` and `port`
  any,              // the target only names who the fault is for (bandwidth_limit)
  patroni_member,   // a `patroni` target: a cluster member chosen by role (database faults)
  // A `process` the run starts: the fault needs it started set apart (its own mount namespace, a
  // preloaded library, its own resolver: FaultFamily::prepare_launch), which an attached one is not.
  started_process,
};

// A problem a fault type's own check finds in a loaded fault.
struct ParamProblem {
  std::string param;  // the parameter it is about; "" = the fault as a whole
  std::string message;
};

// Checks a fault's parameters together, after each one was read alone and normalized (slicer: the
// size variation below the average size). A family whose parameters are known only at load time
// (an external extension describes them) sets FaultType::open_params and checks every parameter
// here, as written.
using FaultCheck = std::function<std::vector<ParamProblem>(const Fault& fault)>;

struct FaultType {
  std::string_view name;
  Capability needs;
  std::span<const FaultParam> params;  // besides the common target, at, for
  std::string_view help;
  bool kernel = false;       // changes the kernel's network state (nftables, tc): run as root
  FaultCheck check = {};     // optional
  bool open_params = false;  // takes parameters beyond `params`, as text, for `check` to judge
  // The JSON Schema of its settings when they are not a list of scalar parameters (an extension's
  // fault: extension, fault, params); empty = generated from `params`.
  std::string_view schema = {};
};

// A fault's parameters as typed values, read once from the loaded fault by the kinds its type
// declares, so a fault family does not parse strings itself. Asking for a parameter the type does
// not declare, or as another kind, is a programming error: it aborts with a message.
class FaultParams {
 public:
  // Fails only for a fault that did not come from the loader (a value that does not parse).
  static Result<FaultParams> read(const FaultType& type, const Fault& fault);

  bool given(std::string_view name) const;               // false for an optional parameter left out without default
  Duration duration(std::string_view name) const;        // duration
  double share(std::string_view name) const;             // share: a fraction, 0.1 for "10%"
  std::uint64_t bytes(std::string_view name) const;      // byte_size, byte_rate (per second)
  int number(std::string_view name) const;               // status, signal, port (0 for "any")
  const std::string& text(std::string_view name) const;  // text, choice, addresses, names
  bool flag(std::string_view name) const;                // boolean

 private:
  struct Value {
    ParamKind kind = ParamKind::text;
    bool given = false;
    Duration duration{0};
    double share = 0;
    std::uint64_t bytes = 0;
    int number = 0;
    std::string text;
  };
  const Value& at(std::string_view name, std::initializer_list<ParamKind> kinds) const;
  std::string type_;
  std::vector<std::pair<std::string, Value>> values_;
};

// Adds fault types to the catalog; called at start-up, before anything reads the catalog
// (faults::register_builtin_faults()). A name registered twice is a programming error: aborts.
void register_fault_types(std::span<const FaultType> types);

// All fault types, in registration order (documentation order). Aborts with a message when nothing
// was registered: a program that reads experiments must call faults::register_builtin_faults().
std::span<const FaultType> fault_catalog();
// nullptr when unknown.
const FaultType* find_fault_type(std::string_view name);
const FaultParam* find_fault_param(const FaultType& type, std::string_view name);

// The keys every fault accepts besides its own parameters.
std::span<const std::string_view> common_fault_keys();  // "target", "at", "for"

// Checks `written` for `param` and returns its normalized form (see the top of this file);
// the error says what was expected.
Result<std::string> normalize_fault_param(const FaultParam& param, std::string_view written);

// The Markdown table of a type's parameters (parameter, kind, default, what), as docs/faults.md
// shows it under the type (a test holds them equal; `chaosplus schema --markdown` prints them all).
// Empty for a type without parameters.
std::string fault_param_table(const FaultType& type);

// "64KB/s", "1MiB/s", "500B/s", "2000/s" -> bytes per second (> 0).
Result<std::uint64_t> parse_byte_rate(std::string_view text);
// Exact shortest form that parse_duration reads back to the same value: "1500ms", "2s", "250us".
std::string exact_duration(Duration d);

bool target_has(const Target& target, Capability capability);
// True for the fault types registered as kernel faults (partition, blackhole_port, reject,
// packet_loss, bandwidth_limit).
bool is_kernel_fault(std::string_view type);
// "a process or attach", ... for messages: "fault 'kill' needs a target with <this>".
std::string_view describe(Capability capability);

}  // namespace chaosplus::spec
