#include "openapi/checkable.h"

#include <cstdint>
#include <limits>
#include <regex>
#include <set>

namespace chaosplus::openapi {
namespace {

const std::set<std::string, std::less<>> kTypes = {"null", "boolean", "object", "array", "number", "integer", "string"};

// valijson reads counts as int64; a larger one would stop it.
bool is_count(const Json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>() <= std::numeric_limits<std::int64_t>::max();
  return value.is_number_integer() && value.get<std::int64_t>() >= 0;
}

bool valid_regex(const std::string& pattern) {
  constexpr std::size_t kMaxPattern = 1000;
  if (pattern.size() > kMaxPattern) return false;
  try {
    std::regex compiled(pattern);
    return true;
  } catch (const std::regex_error&) {
    return false;
  }
}

class Cleaner {
 public:
  explicit Cleaner(const CheckableOptions& options) : options_(options) {}

  Json schema(const Json& in, int depth) {
    if (in.is_boolean()) return in;
    if (!in.is_object() || depth > kMaxDepth) return Json::object();
    Json out = Json::object();
    Json all_of = Json::array();
    for (auto it = in.begin(); it != in.end(); ++it) {
      const std::string& key = it.key();
      const Json& value = it.value();
      if (key == "allOf" || key == "anyOf" || key == "oneOf") {
        if (!value.is_array() || value.empty()) continue;
        Json list = Json::array();
        for (const auto& item : value) list.push_back(schema(item, depth + 1));
        if (key == "allOf") {
          for (auto& item : list) all_of.push_back(std::move(item));
        } else {
          out[key] = std::move(list);
        }
      } else if (key == "not" || key == "additionalItems" || key == "contains" || key == "propertyNames" ||
                 key == "if" || key == "then" || key == "else") {
        if (value.is_object() || value.is_boolean()) out[key] = schema(value, depth + 1);
      } else if (key == "additionalProperties") {
        if (value.is_object() || value.is_boolean()) out[key] = schema(value, depth + 1);
      } else if (key == "items") {
        if (value.is_array()) {
          Json list = Json::array();
          for (const auto& item : value) list.push_back(schema(item, depth + 1));
          out[key] = std::move(list);
        } else if (value.is_object() || value.is_boolean()) {
          out[key] = schema(value, depth + 1);
        }
      } else if (key == "properties" || (key == "patternProperties" && options_.patterns)) {
        if (!value.is_object()) continue;
        Json map = Json::object();
        for (auto entry = value.begin(); entry != value.end(); ++entry) {
          if (key == "patternProperties" && !valid_regex(entry.key())) continue;
          map[entry.key()] = schema(entry.value(), depth + 1);
        }
        out[key] = std::move(map);
      } else if (key == "type") {
        Json types = Json::array();
        for (const auto& type : value.is_array() ? value : Json::array({value})) {
          if (type.is_string() && kTypes.contains(type.get<std::string>()) &&
              std::find(types.begin(), types.end(), type) == types.end()) {
            types.push_back(type);
          }
        }
        if (types.size() == 1) out[key] = types[0];
        else if (!types.empty()) out[key] = std::move(types);
      } else if (key == "enum") {
        if (value.is_array() && !value.empty()) out[key] = value;
      } else if (key == "const") {
        out[key] = value;
      } else if (key == "pattern") {
        if (options_.patterns && value.is_string() && valid_regex(value.get<std::string>())) out[key] = value;
      } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" || key == "exclusiveMaximum") {
        if (value.is_number()) out[key] = value;
      } else if (key == "multipleOf") {
        if (value.is_number() && value.get<double>() > 0) out[key] = value;
      } else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems" ||
                 key == "minProperties" || key == "maxProperties") {
        if (is_count(value)) out[key] = value;
      } else if (key == "required") {
        if (!value.is_array()) continue;
        Json names = Json::array();
        for (const auto& name : value) {
          if (name.is_string() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
        }
        if (!names.empty()) out[key] = std::move(names);
      } else if (key == "uniqueItems") {
        if (value.is_boolean()) out[key] = value;
      }
      // Everything else (annotations, examples, discriminator, x- keys, dependencies...) is left out.
    }
    if (!all_of.empty()) out["allOf"] = std::move(all_of);
    return out;
  }

 private:
  static constexpr int kMaxDepth = 256;
  const CheckableOptions& options_;
};

}  // namespace

Json checkable_schema(const Json& schema, const CheckableOptions& options) {
  return Cleaner(options).schema(schema, 0);
}

}  // namespace chaosplus::openapi
