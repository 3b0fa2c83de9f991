// Conforming values from a schema. The edges are in edge_values.cpp, the dictionary in
// interesting.cpp, formats and patterns in their own files.
#include "fuzz/values.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "fuzz/formats.h"
#include "fuzz/pattern.h"
#include "fuzz/schema_view.h"
#include "fuzz/value_internals.h"

namespace chaosplus::fuzz {

namespace sv = schema_view;

std::vector<std::string> schema_types(const Json& schema) {
  static const std::vector<std::string> kAll = {"null", "boolean", "integer", "number", "string", "array", "object"};
  if (!schema.is_object()) return kAll;
  std::vector<std::string> listed;
  if (auto it = schema.find("type"); it != schema.end()) {
    if (it->is_string()) listed.push_back(it->get<std::string>());
    if (it->is_array())
      for (const auto& t : *it)
        if (t.is_string()) listed.push_back(t.get<std::string>());
  }
  if (listed.empty()) {
    auto has = [&](std::initializer_list<const char*> keys) {
      return std::any_of(keys.begin(), keys.end(), [&](const char* k) { return schema.contains(k); });
    };
    if (has({"properties", "required", "additionalProperties", "minProperties", "maxProperties"}))
      listed.push_back("object");
    if (has({"items", "prefixItems", "minItems", "maxItems", "uniqueItems"})) listed.push_back("array");
    if (has({"minLength", "maxLength", "pattern", "format"})) listed.push_back("string");
    if (has({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})) listed.push_back("number");
    for (const char* key : {"enum", "const"}) {
      if (!schema.contains(key)) continue;
      const Json values = std::string(key) == "enum" ? schema[key] : Json::array({schema[key]});
      for (const auto& v : values) {
        const char* t = v.is_null()             ? "null"
                        : v.is_boolean()        ? "boolean"
                        : v.is_number_integer() ? "integer"
                        : v.is_number()         ? "number"
                        : v.is_string()         ? "string"
                        : v.is_array()          ? "array"
                                                : "object";
        listed.push_back(t);
      }
    }
  }
  if (schema.contains("nullable") && schema["nullable"] == true) listed.push_back("null");
  if (listed.empty()) return kAll;
  std::vector<std::string> out;
  for (const auto& t : kAll)
    if (std::find(listed.begin(), listed.end(), t) != listed.end()) out.push_back(t);
  return out.empty() ? kAll : out;
}

namespace detail {

std::vector<Json> examples_of(const Json& schema, const std::vector<Json>* extra) {
  std::vector<Json> out;
  if (extra) out.insert(out.end(), extra->begin(), extra->end());
  if (schema.is_object()) {
    if (auto it = schema.find("examples"); it != schema.end() && it->is_array())
      out.insert(out.end(), it->begin(), it->end());
    for (const char* key : {"example", "default"})
      if (auto it = schema.find(key); it != schema.end()) out.push_back(*it);
  }
  return out;
}

std::optional<IntRange> integer_range(const Json& schema) {
  const sv::Bounds b = sv::number_bounds(schema);
  constexpr double kLow = -9.2233720368547748e18, kHigh = 9.2233720368547748e18;  // inside int64
  IntRange r;
  if (b.min) {
    const double lo = b.min_exclusive ? std::floor(*b.min) + 1 : std::ceil(*b.min);
    r.low = lo <= kLow ? std::numeric_limits<std::int64_t>::min() + 1 : static_cast<std::int64_t>(std::min(lo, kHigh));
    r.has_low = true;
  }
  if (b.max) {
    const double hi = b.max_exclusive ? std::ceil(*b.max) - 1 : std::floor(*b.max);
    r.high = hi >= kHigh ? std::numeric_limits<std::int64_t>::max() - 1 : static_cast<std::int64_t>(std::max(hi, kLow));
    r.has_high = true;
  }
  const std::string format = schema.value("format", "");
  if (format == "int32") {
    r.low = r.has_low ? std::max<std::int64_t>(r.low, INT32_MIN) : INT32_MIN;
    r.high = r.has_high ? std::min<std::int64_t>(r.high, INT32_MAX) : INT32_MAX;
  }
  if (r.low > r.high) return std::nullopt;
  return r;
}

}  // namespace detail

namespace {

using detail::IntRange;

constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const char* const kWide[] = {"\xC3\xA9", "\xC3\xBC", "\xE6\x97\xA5", "\xF0\x9F\x98\x80", "\xD0\x96"};  // é ü 日 😀 Ж

class Valid {
 public:
  Valid(Rng& rng, const ValueLimits& limits) : rng_(rng), limits_(limits) {}

  Json value(const Json& input, const std::vector<Json>* examples, int depth) {
    if (input.is_boolean() && !input.get<bool>()) return nullptr;  // nothing is valid: send something
    if (sv::is_cycle(input)) return minimal(input);
    const Json schema = sv::resolve(input, rng_);
    if (!schema.is_object()) return nullptr;
    if (auto it = schema.find("const"); it != schema.end()) return *it;
    if (auto it = schema.find("enum"); it != schema.end() && it->is_array() && !it->empty())
      return (*it)[rng_.below(it->size())];
    if (const auto known = detail::examples_of(schema, examples); !known.empty() && rng_.chance(0.25))
      return known[rng_.below(known.size())];
    std::vector<std::string> types = schema_types(schema);
    const bool said_nothing = types.size() == 7;
    if (sv::allows(types, "null") && types.size() > 1) {
      if (rng_.chance(0.1)) return nullptr;
      types.erase(std::find(types.begin(), types.end(), "null"));
    }
    std::string type = types[rng_.below(types.size())];
    if (said_nothing) type = rng_.chance(0.6) ? "string" : type;
    if (type == "null") return nullptr;
    if (type == "boolean") return rng_.chance(0.5);
    if (type == "integer") return integer(schema);
    if (type == "number") return number(schema);
    if (type == "string") return string(schema, examples);
    if (type == "array") return array(schema, depth);
    return object(schema, depth);
  }

 private:
  Json minimal(const Json& schema) {
    const auto types = schema_types(schema);
    if (types.size() == 7 || sv::allows(types, "null")) return nullptr;
    const std::string& t = types.front();
    if (t == "boolean") return false;
    if (t == "integer" || t == "number") return 0;
    if (t == "string") return "";
    if (t == "array") return Json::array();
    return Json::object();
  }

  std::int64_t pick_in(std::int64_t low, std::int64_t high) {
    if (rng_.chance(0.15)) return rng_.chance(0.5) ? low : high;  // the bounds themselves are valid edges
    return rng_.between(low, high);
  }

  Json integer(const Json& schema) {
    auto range = detail::integer_range(schema);
    if (!range) return 0;
    IntRange r = *range;
    // One-sided or open ranges: mostly small numbers near what code expects.
    if (!r.has_low && !r.has_high && schema.value("format", "") != "int32") {
      r.low = 0;
      r.high = rng_.chance(0.8) ? 100 : 100000;
    } else if (!r.has_low && schema.value("format", "") != "int32") {
      r.low = r.high > std::numeric_limits<std::int64_t>::min() + 100 ? r.high - 100 : r.high;
    } else if (!r.has_high && schema.value("format", "") != "int32") {
      r.high = r.low < std::numeric_limits<std::int64_t>::max() - 100 ? r.low + 100 : r.low;
    } else if (schema.value("format", "") == "int32" && !r.has_low && !r.has_high) {
      r.low = 0;
      r.high = 1000;
    }
    const sv::Bounds b = sv::number_bounds(schema);
    if (b.multiple_of && *b.multiple_of >= 1 && std::floor(*b.multiple_of) == *b.multiple_of) {
      const auto m = static_cast<std::int64_t>(*b.multiple_of);
      const std::int64_t first = r.low >= 0 ? (r.low + m - 1) / m : -((-r.low) / m);
      const std::int64_t last = r.high >= 0 ? r.high / m : -((-r.high + m - 1) / m);
      if (first > last) return first * m;
      return pick_in(first, last) * m;
    }
    return pick_in(r.low, r.high);
  }

  Json number(const Json& schema) {
    const sv::Bounds b = sv::number_bounds(schema);
    double lo = b.min.value_or(b.max ? *b.max - 100 : -100);
    double hi = b.max.value_or(b.min ? *b.min + 100 : 100);
    if (b.min && b.min_exclusive) lo = std::nextafter(lo, std::numeric_limits<double>::infinity());
    if (b.max && b.max_exclusive) hi = std::nextafter(hi, -std::numeric_limits<double>::infinity());
    if (schema.value("format", "") == "float") {
      lo = std::max(lo, -3.4e38);
      hi = std::min(hi, 3.4e38);
    }
    if (lo > hi) return lo;
    if (b.multiple_of) {
      const double m = *b.multiple_of;
      const double first = std::ceil(lo / m), last = std::floor(hi / m);
      if (first > last || last - first > 9e15) return first * m;
      const double k = first + static_cast<double>(rng_.below(static_cast<std::uint64_t>(last - first) + 1));
      const double v = k * m;
      if (std::floor(v) == v && std::fabs(v) < 9e15) return static_cast<std::int64_t>(v);
      return v;
    }
    if (rng_.chance(0.15)) return rng_.chance(0.5) ? lo : hi;
    double v = lo + (hi - lo) * rng_.unit();
    const double rounded = std::round(v * 100) / 100;  // readable values when they stay inside
    if (rounded >= lo && rounded <= hi) v = rounded;
    return v;
  }

  std::string plain(std::size_t length) {
    std::string out;
    const bool wide = rng_.chance(0.1);
    for (std::size_t i = 0; i < length; ++i) {
      if (wide && rng_.chance(0.3)) {
        out += kWide[rng_.below(std::size(kWide))];
      } else {
        out += kAlnum[rng_.below(sizeof(kAlnum) - 1)];
      }
    }
    return out;
  }

  Json string(const Json& schema, const std::vector<Json>* examples) {
    const std::size_t min = sv::size_keyword(schema, "minLength").value_or(0);
    const auto max = sv::size_keyword(schema, "maxLength");
    const std::string format = schema.value("format", "");
    const std::string pattern = schema.value("pattern", "");
    if (!format.empty()) {
      for (int attempt = 0; attempt < 4; ++attempt) {
        auto text = formats::value(format, rng_);
        if (!text) break;
        if (sv::string_fits(schema, *text)) return *text;
      }
    }
    if (!pattern.empty()) {
      for (int attempt = 0; attempt < 8; ++attempt) {
        auto text = pattern::generate(pattern, rng_, attempt < 4 ? 4 : std::max<std::size_t>(min, 8));
        if (!text) break;
        if (sv::string_fits(schema, *text)) return *text;
      }
      for (const auto& example : detail::examples_of(schema, examples))
        if (example.is_string() && sv::string_fits(schema, example.get<std::string>())) return example;
    }
    std::size_t high = std::max(min, limits_.max_length);
    if (max) high = std::min(high, *max);
    if (high < min) high = min;
    high = std::min(high, kMaxValueBytes / 4);
    const auto length = static_cast<std::size_t>(
        rng_.between(static_cast<std::int64_t>(std::min(min, high)), static_cast<std::int64_t>(high)));
    std::string text = plain(length);
    spent_ += text.size();
    return text;
  }

  Json array(const Json& schema, int depth) {
    const std::size_t min = sv::size_keyword(schema, "minItems").value_or(0);
    const auto max = sv::size_keyword(schema, "maxItems");
    const Json items = schema.contains("items") ? schema["items"] : Json::object();
    const Json prefix =
        schema.contains("prefixItems") && schema["prefixItems"].is_array() ? schema["prefixItems"] : Json::array();
    std::size_t count = min;
    if (depth < limits_.max_depth && !sv::is_cycle(items) && spent_ < kMaxValueBytes / 2) {
      std::size_t high = std::max(min, std::min<std::size_t>(limits_.max_items, min + limits_.max_items));
      if (max) high = std::min(high, *max);
      count =
          high <= min
              ? min
              : static_cast<std::size_t>(rng_.between(static_cast<std::int64_t>(min), static_cast<std::int64_t>(high)));
    }
    count = std::min<std::size_t>(count, 1000);
    const bool unique = schema.value("uniqueItems", false);
    Json out = Json::array();
    for (std::size_t tries = 0; out.size() < count && tries < count * 4 + 4; ++tries) {
      const Json& item_schema = out.size() < prefix.size() ? prefix[out.size()] : items;
      Json item = value(item_schema, nullptr, depth + 1);
      if (unique && std::find(out.begin(), out.end(), item) != out.end()) continue;
      spent_ += 8;
      out.push_back(std::move(item));
    }
    return out;
  }

  Json object(const Json& schema, int depth) {
    Json out = Json::object();
    const Json properties =
        schema.contains("properties") && schema["properties"].is_object() ? schema["properties"] : Json::object();
    std::vector<std::string> required;
    if (auto it = schema.find("required"); it != schema.end() && it->is_array())
      for (const auto& name : *it)
        if (name.is_string()) required.push_back(name.get<std::string>());
    const Json additional = schema.contains("additionalProperties") ? schema["additionalProperties"] : Json(true);
    const bool closed = additional.is_boolean() && !additional.get<bool>();
    const bool room = depth < limits_.max_depth && spent_ < kMaxValueBytes / 2;
    for (const auto& [name, property] : properties.items()) {
      const bool needed = std::find(required.begin(), required.end(), name) != required.end();
      if (needed || (room && rng_.chance(limits_.optional_share))) out[name] = value(property, nullptr, depth + 1);
    }
    const Json other = additional.is_object() ? additional : Json::object();
    for (const auto& name : required)
      if (!out.contains(name)) out[name] = value(other, nullptr, depth + 1);
    const std::size_t min = sv::size_keyword(schema, "minProperties").value_or(0);
    for (const auto& [name, property] : properties.items()) {
      if (out.size() >= min) break;
      if (!out.contains(name)) out[name] = value(property, nullptr, depth + 1);
    }
    if (!closed) {
      const bool extra = additional.is_object() && !additional.empty() && room && rng_.chance(0.2);
      for (int i = 0; out.size() < min || (extra && i < 1); ++i) {
        const std::string name = "extra" + std::to_string(i);
        if (!out.contains(name)) out[name] = value(other, nullptr, depth + 1);
      }
    }
    if (auto max = sv::size_keyword(schema, "maxProperties")) {
      for (auto it = out.begin(); out.size() > *max && it != out.end();) {
        if (std::find(required.begin(), required.end(), it.key()) == required.end()) {
          it = out.erase(it);
        } else {
          ++it;
        }
      }
    }
    return out;
  }

  Rng& rng_;
  const ValueLimits& limits_;
  std::size_t spent_ = 0;  // bytes of strings so far: past half the budget, only what is required
};

}  // namespace

Json valid_value(const Json& schema, Rng& rng, const ValueLimits& limits) {
  return Valid(rng, limits).value(schema, nullptr, 0);
}

Json valid_value(const Json& schema, Rng& rng, const std::vector<Json>& examples, const ValueLimits& limits) {
  return Valid(rng, limits).value(schema, &examples, 0);
}

}  // namespace chaosplus::fuzz
