#include "fuzz/schema_view.h"

#include <algorithm>
#include <map>
#include <regex>

#include "fuzz/values.h"

namespace chaosplus::fuzz::schema_view {
namespace {

std::vector<std::string> type_list(const Json& type) {
  if (type.is_string()) return {type.get<std::string>()};
  std::vector<std::string> out;
  if (type.is_array())
    for (const auto& t : type)
      if (t.is_string()) out.push_back(t.get<std::string>());
  return out;
}

void merge_into(Json& out, const Json& add);

Json intersect_types(const Json& a, const Json& b) {
  const auto left = type_list(a), right = type_list(b);
  Json out = Json::array();
  for (const auto& t : left) {
    const bool in_right = std::find(right.begin(), right.end(), t) != right.end();
    const bool integer_of_number = t == "integer" && std::find(right.begin(), right.end(), "number") != right.end();
    if (in_right || integer_of_number) out.push_back(t);
  }
  for (const auto& t : right)
    if (t == "integer" && std::find(left.begin(), left.end(), "number") != left.end() &&
        std::find(out.begin(), out.end(), Json("integer")) == out.end())
      out.push_back(t);
  if (out.empty()) return a;  // contradictory: keep the first, the generator cannot satisfy both anyway
  return out.size() == 1 ? out[0] : out;
}

void merge_into(Json& out, const Json& add) {
  if (!add.is_object()) return;
  for (const auto& [key, value] : add.items()) {
    if (!out.contains(key)) {
      out[key] = value;
      continue;
    }
    Json& mine = out[key];
    if (key == "properties" && mine.is_object() && value.is_object()) {
      for (const auto& [name, schema] : value.items()) {
        if (mine.contains(name) && mine[name].is_object() && schema.is_object()) {
          merge_into(mine[name], merged(schema));
        } else {
          mine[name] = schema;
        }
      }
    } else if (key == "required" && mine.is_array() && value.is_array()) {
      for (const auto& name : value)
        if (std::find(mine.begin(), mine.end(), name) == mine.end()) mine.push_back(name);
    } else if (key == "type") {
      mine = intersect_types(mine, value);
    } else if ((key == "minimum" || key == "exclusiveMinimum" || key == "minLength" || key == "minItems" ||
                key == "minProperties") &&
               mine.is_number() && value.is_number()) {
      if (value.get<double>() > mine.get<double>()) mine = value;
    } else if ((key == "maximum" || key == "exclusiveMaximum" || key == "maxLength" || key == "maxItems" ||
                key == "maxProperties") &&
               mine.is_number() && value.is_number()) {
      if (value.get<double>() < mine.get<double>()) mine = value;
    } else if (key == "enum" && mine.is_array() && value.is_array()) {
      Json both = Json::array();
      for (const auto& v : mine)
        if (std::find(value.begin(), value.end(), v) != value.end()) both.push_back(v);
      if (!both.empty()) mine = both;
    } else if (key == "additionalProperties" && value.is_boolean() && !value.get<bool>()) {
      mine = false;
    } else if (key == "items" && mine.is_object() && value.is_object()) {
      merge_into(mine, merged(value));
    }
    // anything else: the first schema's word stands
  }
}

}  // namespace

Json merged(const Json& schema) {
  if (schema.is_boolean()) return schema.get<bool>() ? Json::object() : Json(false);
  if (!schema.is_object()) return Json::object();
  if (!schema.contains("allOf") || !schema["allOf"].is_array()) return schema;
  Json out = schema;
  out.erase("allOf");
  for (const auto& part : schema["allOf"]) merge_into(out, merged(part));
  return out;
}

const Json* branches(const Json& schema) {
  if (!schema.is_object()) return nullptr;
  for (const char* key : {"oneOf", "anyOf"}) {
    auto it = schema.find(key);
    if (it != schema.end() && it->is_array() && !it->empty()) return &*it;
  }
  return nullptr;
}

Json resolve(const Json& schema, Rng& rng) {
  Json out = merged(schema);
  for (int round = 0; round < 8; ++round) {
    const Json* choices = branches(out);
    if (!choices) break;
    const Json branch = (*choices)[rng.below(choices->size())];
    Json base = out;
    base.erase("oneOf");
    base.erase("anyOf");
    Json chosen = merged(branch);
    if (chosen.is_boolean()) break;
    // The branch first: its own type and keywords decide; the common part adds what it lacks.
    merge_into(chosen, base);
    out = std::move(chosen);
  }
  return out;
}

bool is_cycle(const Json& schema) {
  return schema.is_object() && schema.contains("x-chaosplus-cycle") && schema["x-chaosplus-cycle"] == true;
}

bool allows(const std::vector<std::string>& types, std::string_view type) {
  return std::find(types.begin(), types.end(), type) != types.end();
}

Bounds number_bounds(const Json& schema) {
  Bounds b;
  auto number = [&](const char* key) -> std::optional<double> {
    auto it = schema.find(key);
    if (it != schema.end() && it->is_number()) return it->get<double>();
    return std::nullopt;
  };
  b.min = number("minimum");
  b.max = number("maximum");
  if (auto e = number("exclusiveMinimum"); e && (!b.min || *e >= *b.min)) {
    b.min = e;
    b.min_exclusive = true;
  }
  if (auto e = number("exclusiveMaximum"); e && (!b.max || *e <= *b.max)) {
    b.max = e;
    b.max_exclusive = true;
  }
  // OpenAPI 3.0 booleans, in case a schema was not normalized
  if (schema.contains("exclusiveMinimum") && schema["exclusiveMinimum"] == true) b.min_exclusive = true;
  if (schema.contains("exclusiveMaximum") && schema["exclusiveMaximum"] == true) b.max_exclusive = true;
  if (auto m = number("multipleOf"); m && *m > 0) b.multiple_of = m;
  return b;
}

std::optional<std::size_t> size_keyword(const Json& schema, const char* name) {
  auto it = schema.find(name);
  if (it == schema.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (v < 0) return std::size_t{0};
  if (v > 1e12) return std::size_t{1000000000000};
  return static_cast<std::size_t>(v);
}

std::size_t code_points(std::string_view text) {
  std::size_t n = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

bool pattern_matches(const std::string& pattern, const std::string& text) {
  // Compiled patterns per thread: generators run on the engine's thread, tests on theirs.
  thread_local std::map<std::string, std::optional<std::regex>> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    std::optional<std::regex> compiled;
    try {
      compiled.emplace(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
    }
    if (cache.size() > 256) cache.clear();
    it = cache.emplace(pattern, std::move(compiled)).first;
  }
  if (!it->second) return true;
  // libstdc++'s std::regex recurses once per character: a 64 KiB string can exhaust the stack. A
  // long text is not known to match (so a hostile long string is not claimed to conform).
  if (text.size() > 2048) return false;
  try {
    return std::regex_search(text, *it->second);
  } catch (const std::regex_error&) {  // complexity limits on long texts
    return true;
  }
}

bool enum_contains(const Json& schema, const Json& value) {
  auto it = schema.find("enum");
  if (it == schema.end() || !it->is_array()) return true;
  return std::find(it->begin(), it->end(), value) != it->end();
}

bool string_fits(const Json& schema, const std::string& text) {
  const std::size_t length = code_points(text);
  if (auto min = size_keyword(schema, "minLength"); min && length < *min) return false;
  if (auto max = size_keyword(schema, "maxLength"); max && length > *max) return false;
  if (auto it = schema.find("pattern"); it != schema.end() && it->is_string() && !pattern_matches(*it, text))
    return false;
  if (!enum_contains(schema, Json(text))) return false;
  if (auto it = schema.find("const"); it != schema.end() && *it != Json(text)) return false;
  return true;
}

}  // namespace chaosplus::fuzz::schema_view
