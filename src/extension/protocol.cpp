#include "extension/protocol.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/units.h"

namespace chaosplus::extension {
namespace {

using nlohmann::json;

Result<std::string> text_field(const json& object, const char* key, bool required, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return Error{where + ": missing \"" + key + "\""};
    return std::string();
  }
  if (!it->is_string()) return Error{where + ": \"" + key + "\" must be a string"};
  return it->get<std::string>();
}

// Whether a JSON value fits a parameter kind (a declared default must).
bool fits(const json& value, ParamKind kind) {
  switch (kind) {
    case ParamKind::text: return value.is_string();
    case ParamKind::integer: return value.is_number_integer();
    case ParamKind::number:
    case ParamKind::duration:  // milliseconds
      return value.is_number();
    case ParamKind::boolean: return value.is_boolean();
  }
  return false;
}

Result<Param> parse_param(const json& p, const std::string& where) {
  if (!p.is_object()) return Error{where + ": a parameter must be an object"};
  Param param;
  auto name = text_field(p, "name", true, where);
  if (!name) return Error{name.error()};
  param.name = *name;
  if (param.name.empty()) return Error{where + ": a parameter has an empty name"};
  const std::string at = where + " parameter '" + param.name + "'";
  auto kind_text = text_field(p, "kind", true, at);
  if (!kind_text) return Error{kind_text.error()};
  auto kind = parse_param_kind(*kind_text);
  if (!kind) return Error{at + ": kind '" + *kind_text + "' is not one of text, integer, number, duration, bool"};
  param.kind = *kind;
  if (const auto r = p.find("required"); r != p.end()) {
    if (!r->is_boolean()) return Error{at + ": \"required\" must be true or false"};
    param.required = r->get<bool>();
  }
  if (const auto d = p.find("default"); d != p.end() && !d->is_null()) {
    if (!fits(*d, param.kind)) return Error{at + ": its default does not fit kind " + *kind_text};
    param.default_json = d->dump();
  }
  auto description = text_field(p, "description", false, at);
  if (!description) return Error{description.error()};
  param.description = *description;
  return param;
}

Result<std::vector<Operation>> parse_operations(const json& reply, const char* key) {
  std::vector<Operation> out;
  const auto list = reply.find(key);
  if (list == reply.end() || list->is_null()) return out;
  if (!list->is_array()) return Error{std::string("\"") + key + "\" must be an array"};
  for (const json& o : *list) {
    if (!o.is_object()) return Error{std::string("an entry of \"") + key + "\" is not an object"};
    Operation op;
    auto name = text_field(o, "name", true, std::string("an entry of \"") + key + "\"");
    if (!name) return Error{name.error()};
    op.name = *name;
    const std::string_view list_name(key);
    const std::string where = std::string(list_name == "faults"   ? "fault"
                                          : list_name == "probes" ? "probe"
                                                                  : "activity") +
                              " '" + op.name + "'";
    auto description = text_field(o, "description", false, where);
    if (!description) return Error{description.error()};
    op.description = *description;
    if (const auto params = o.find("params"); params != o.end() && !params->is_null()) {
      if (!params->is_array()) return Error{where + ": \"params\" must be an array"};
      for (const json& p : *params) {
        auto param = parse_param(p, where);
        if (!param) return Error{param.error()};
        if (op.find(param->name) != nullptr) return Error{where + ": parameter '" + param->name + "' twice"};
        op.params.push_back(std::move(*param));
      }
    }
    for (const Operation& seen : out) {
      if (seen.name == op.name) return Error{where + " is described twice"};
    }
    out.push_back(std::move(op));
  }
  return out;
}

template <typename T>
bool parse_whole(std::string_view text, T& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

Result<json> convert(const Param& param, const std::string& written) {
  switch (param.kind) {
    case ParamKind::text: return json(written);
    case ParamKind::integer: {
      long long v = 0;
      if (!parse_whole(written, v)) return Error{"expected an integer, got '" + written + "'"};
      return json(v);
    }
    case ParamKind::number: {
      double v = 0;
      if (!parse_whole(written, v) || !std::isfinite(v)) return Error{"expected a number, got '" + written + "'"};
      return json(v);
    }
    case ParamKind::duration: {
      auto d = parse_duration(written);
      if (!d) return Error{"expected a duration like 500ms or 2s, got '" + written + "'"};
      return json(std::chrono::duration<double, std::milli>(*d).count());
    }
    case ParamKind::boolean:
      if (written == "true") return json(true);
      if (written == "false") return json(false);
      return Error{"expected true or false, got '" + written + "'"};
  }
  return Error{"unknown kind"};
}

}  // namespace

std::string_view to_string(ParamKind kind) {
  switch (kind) {
    case ParamKind::text: return "text";
    case ParamKind::integer: return "integer";
    case ParamKind::number: return "number";
    case ParamKind::duration: return "duration";
    case ParamKind::boolean: return "bool";
  }
  return "?";
}

std::optional<ParamKind> parse_param_kind(std::string_view text) {
  if (text == "text") return ParamKind::text;
  if (text == "integer") return ParamKind::integer;
  if (text == "number") return ParamKind::number;
  if (text == "duration") return ParamKind::duration;
  if (text == "bool") return ParamKind::boolean;
  return std::nullopt;
}

const Param* Operation::find(std::string_view param) const {
  for (const Param& p : params) {
    if (p.name == param) return &p;
  }
  return nullptr;
}

const Operation* Description::find_fault(std::string_view n) const {
  for (const Operation& o : faults) {
    if (o.name == n) return &o;
  }
  return nullptr;
}

const Operation* Description::find_probe(std::string_view n) const {
  for (const Operation& o : probes) {
    if (o.name == n) return &o;
  }
  return nullptr;
}

Result<Description> parse_description(const json& reply) {
  if (!reply.is_object()) return Error{"the describe reply is not a JSON object"};
  Description d;
  auto name = text_field(reply, "name", true, "describe reply");
  if (!name) return Error{name.error()};
  d.name = *name;
  auto version = text_field(reply, "version", false, "describe reply");
  if (!version) return Error{version.error()};
  d.version = *version;
  const auto protocol = reply.find("protocol");
  if (protocol == reply.end() || !protocol->is_number_integer()) {
    return Error{"describe reply: missing \"protocol\" (an integer; this chaosplus speaks " +
                 std::to_string(kProtocolVersion) + ")"};
  }
  d.protocol = protocol->get<int>();
  if (d.protocol != kProtocolVersion) {
    return Error{"describe reply: protocol " + std::to_string(d.protocol) + ", but this chaosplus speaks " +
                 std::to_string(kProtocolVersion)};
  }
  auto faults = parse_operations(reply, "faults");
  if (!faults) return Error{"describe reply: " + faults.error()};
  d.faults = std::move(*faults);
  auto probes = parse_operations(reply, "probes");
  if (!probes) return Error{"describe reply: " + probes.error()};
  d.probes = std::move(*probes);
  auto activities = parse_operations(reply, "activities");
  if (!activities) return Error{"describe reply: " + activities.error()};
  d.activities = std::move(*activities);
  return d;
}

TypedParams type_params(const Operation& op, const std::map<std::string, std::string>& written) {
  TypedParams out;
  json typed = json::object();
  for (const auto& [name, value] : written) {
    const Param* param = op.find(name);
    if (param == nullptr) {
      std::string known;
      for (const Param& p : op.params) known += (known.empty() ? "" : ", ") + p.name;
      out.problems.push_back({name, "'" + op.name + "' has no parameter '" + name + "'" +
                                        (known.empty() ? " (it takes none)" : " (it takes: " + known + ")")});
      continue;
    }
    auto converted = convert(*param, value);
    if (!converted) {
      out.problems.push_back(
          {name, "parameter '" + name + "' (" + std::string(to_string(param->kind)) + "): " + converted.error()});
      continue;
    }
    typed[name] = std::move(*converted);
  }
  for (const Param& p : op.params) {
    if (written.contains(p.name)) continue;
    if (!p.default_json.empty()) {
      typed[p.name] = json::parse(p.default_json);
    } else if (p.required) {
      out.problems.push_back({"", "'" + op.name + "' needs parameter '" + p.name + "' (" +
                                      std::string(to_string(p.kind)) + ")" +
                                      (p.description.empty() ? "" : ": " + p.description)});
    }
  }
  out.json = typed.dump();
  return out;
}

}  // namespace chaosplus::extension
