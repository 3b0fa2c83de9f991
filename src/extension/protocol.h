#pragma once
// The extension protocol, version 1 (docs/extensions.md): what an extension says about itself in
// its `describe` reply, and turning parameters as written in an experiment into the typed JSON
// values it is sent. No I/O here (extension/session.h talks to the process).
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace chaosplus::extension {

inline constexpr int kProtocolVersion = 1;

enum class ParamKind { text, integer, number, duration, boolean };
std::string_view to_string(ParamKind kind);
std::optional<ParamKind> parse_param_kind(std::string_view text);

struct Param {
  std::string name;
  ParamKind kind = ParamKind::text;
  bool required = false;
  std::string default_json;  // the default as JSON text ("" = none)
  std::string description;
};

// A fault, probe or activity an extension offers.
struct Operation {
  std::string name;
  std::string description;
  std::vector<Param> params;
  const Param* find(std::string_view param) const;
};

struct Description {
  std::string name;
  std::string version;
  int protocol = kProtocolVersion;
  std::vector<Operation> faults;
  std::vector<Operation> probes;
  std::vector<Operation> activities;
  const Operation* find_fault(std::string_view name) const;
  const Operation* find_probe(std::string_view name) const;
};

// Reads a `describe` reply; an error says which field is missing or of the wrong type.
Result<Description> parse_description(const nlohmann::json& reply);

// One problem with the parameters of a call, for a diagnostic at the parameter's position.
struct ParamProblem {
  std::string param;  // "" = the call as a whole (a missing parameter)
  std::string message;
};

// Checks `written` (scalars as written in YAML) against `op`: unknown parameters, missing required
// ones, values that do not parse as their kind. Without problems, `typed` holds the JSON object sent
// to the extension: every written value converted (durations as milliseconds), and the declared
// defaults for those not written.
struct TypedParams {
  std::string json;  // object, as text
  std::vector<ParamProblem> problems;
};
TypedParams type_params(const Operation& op, const std::map<std::string, std::string>& written);

}  // namespace chaosplus::extension
