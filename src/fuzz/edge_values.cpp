// Values at and past the edges of a schema, each with what makes it so. A defect is made in one
// place only (the rest of the value is valid), so that a finding points at one field.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>

#include "fuzz/encoding.h"
#include "fuzz/formats.h"
#include "fuzz/schema_view.h"
#include "fuzz/value_internals.h"
#include "fuzz/values.h"

namespace chaosplus::fuzz {
namespace {

namespace sv = schema_view;

struct Edge {
  Json value;
  std::string path;  // "items/0/price"; empty at the top
  std::string what;
  bool conforms = false;
};

std::string brief(const Json& value) {
  std::string text = json_text(value);
  if (text.size() > 40) text = text.substr(0, 32) + "...(" + std::to_string(text.size()) + " bytes)";
  return text;
}

std::string joined(const std::vector<std::string>& types) {
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : " or ") + t;
  return out;
}

std::string number_text(double v) { return json_text(Json(v)); }

class Edges {
 public:
  Edges(Rng& rng, const ValueLimits& limits) : rng_(rng), limits_(limits) {}

  Edge edge(const Json& input, int depth) {
    const Json schema = sv::resolve(input, rng_);
    if (!schema.is_object()) return {Json("x"), "", "a value where the schema allows none", false};
    const auto types = schema_types(schema);
    std::vector<std::function<std::optional<Edge>()>> options;
    auto add = [&](int weight, std::function<std::optional<Edge>()> option) {
      for (int i = 0; i < weight; ++i) options.push_back(option);
    };
    const bool anything = types.size() == 7;
    if (!anything) add(2, [&] { return wrong_type(types); });
    if (!sv::allows(types, "null"))
      add(1, [&] { return Edge{nullptr, "", "null where " + joined(types) + " expected (not nullable)", false}; });
    if (schema.contains("enum")) add(2, [&] { return enum_outsider(schema); });
    if (schema.contains("const"))
      add(1, [&]() -> std::optional<Edge> {
        return Edge{Json::array({schema["const"]}), "", "not the const " + brief(schema["const"]), false};
      });
    if (sv::allows(types, "integer") && !sv::allows(types, "number")) add(3, [&] { return integer_edge(schema); });
    if (sv::allows(types, "number")) add(3, [&] { return number_edge(schema); });
    if (sv::allows(types, "string") || anything) {
      add(3, [&] { return string_edge(schema); });
      add(2, [&] { return interesting(schema); });
    }
    if (sv::allows(types, "array") && depth < 8) add(3, [&] { return array_edge(schema, depth); });
    if (sv::allows(types, "object") && depth < 8) add(4, [&] { return object_edge(schema, depth); });
    for (int attempt = 0; attempt < 8 && !options.empty(); ++attempt) {
      const std::size_t i = rng_.below(options.size());
      if (auto result = options[i]()) return std::move(*result);
      options.erase(options.begin() + static_cast<std::ptrdiff_t>(i));
    }
    return wrong_type(types).value_or(Edge{Json::array(), "", "array where anything was expected", true});
  }

 private:
  Json valid(const Json& schema) { return valid_value(schema, rng_, limits_); }

  std::optional<Edge> wrong_type(const std::vector<std::string>& types) {
    std::vector<std::pair<Json, std::string>> wrong;
    const bool numeric = sv::allows(types, "integer") || sv::allows(types, "number");
    if (!sv::allows(types, "boolean")) wrong.emplace_back(true, "boolean true");
    if (!numeric) wrong.emplace_back(42, "integer 42");
    if (!sv::allows(types, "number")) wrong.emplace_back(1.5, "number 1.5");
    if (!sv::allows(types, "string")) {
      wrong.emplace_back(numeric ? "42" : "text", numeric ? "string \"42\"" : "string \"text\"");
      if (numeric) wrong.emplace_back("NaN", "string \"NaN\"");
    }
    if (!sv::allows(types, "array")) wrong.emplace_back(Json::array({1}), "array [1]");
    if (!sv::allows(types, "object")) wrong.emplace_back(Json{{"a", 1}}, "object {\"a\":1}");
    if (wrong.empty()) return std::nullopt;
    auto& [value, label] = wrong[rng_.below(wrong.size())];
    return Edge{value, "", label + " where " + joined(types) + " expected", false};
  }

  std::optional<Edge> enum_outsider(const Json& schema) {
    // `const` is an enum of one. (operator[] on a const object with a missing key is undefined.)
    Json single;
    const Json* found = nullptr;
    if (auto e = schema.find("enum"); e != schema.end()) {
      found = &*e;
    } else if (auto c = schema.find("const"); c != schema.end()) {
      single = Json::array({*c});
      found = &single;
    } else {
      return std::nullopt;
    }
    const Json& values = *found;
    if (!values.is_array() || values.empty()) return std::nullopt;
    std::vector<Json> candidates;
    const Json& first = values[rng_.below(values.size())];
    if (first.is_string()) {
      std::string text = first.get<std::string>();
      std::string upper = text;
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
      candidates = {text + "x", upper, " " + text, "", "unknown"};
    } else if (first.is_number()) {
      candidates = {first.get<double>() + 1, -1, 0, 999999};
    } else {
      candidates = {"other", 0};
    }
    for (const auto& c : candidates)
      if (std::find(values.begin(), values.end(), c) == values.end())
        return Edge{c, "", brief(c) + " not in enum", false};
    return std::nullopt;
  }

  std::optional<Edge> integer_edge(const Json& schema) {
    const std::string format = schema.value("format", "");
    const auto range = detail::integer_range(schema);
    const sv::Bounds b = sv::number_bounds(schema);
    std::vector<Edge> out;
    const std::int64_t step =
        b.multiple_of && *b.multiple_of >= 1 && *b.multiple_of < 9e18 ? static_cast<std::int64_t>(*b.multiple_of) : 1;
    auto in_range = [&](std::int64_t v) { return range && v >= range->low && v <= range->high && v % step == 0; };
    if (range && range->has_low) {
      if (range->low > std::numeric_limits<std::int64_t>::min())
        out.push_back({range->low - 1, "",
                       std::to_string(range->low - 1) + " below minimum " + std::to_string(range->low), false});
      out.push_back({range->low, "", "minimum " + std::to_string(range->low) + " exactly", in_range(range->low)});
    }
    if (range && range->has_high) {
      if (range->high < std::numeric_limits<std::int64_t>::max())
        out.push_back({range->high + 1, "",
                       std::to_string(range->high + 1) + " above maximum " + std::to_string(range->high), false});
      out.push_back({range->high, "", "maximum " + std::to_string(range->high) + " exactly", in_range(range->high)});
    }
    out.push_back({std::numeric_limits<std::int64_t>::max(), "", "INT64_MAX",
                   in_range(std::numeric_limits<std::int64_t>::max())});
    out.push_back({std::numeric_limits<std::int64_t>::min(), "", "INT64_MIN",
                   in_range(std::numeric_limits<std::int64_t>::min())});
    // Valid JSON Schema where no maximum is set, but valijson (and most servers) read it as an
    // int64 and fail: counted as not conforming, like the response checker would.
    out.push_back({std::numeric_limits<std::uint64_t>::max(), "", "UINT64_MAX (past int64)", false});
    out.push_back(
        {std::int64_t{2147483648}, "", "2147483648 (INT32_MAX + 1)", format != "int32" && in_range(2147483648)});
    out.push_back(
        {std::int64_t{-2147483649}, "", "-2147483649 (INT32_MIN - 1)", format != "int32" && in_range(-2147483649)});
    out.push_back({1e308, "", "1e308 where integer expected", false});
    out.push_back({-0.0, "", "-0.0 where integer expected", false});
    out.push_back({0, "", "zero", in_range(0)});
    out.push_back({-1, "", "minus one", in_range(-1)});
    if (b.multiple_of && *b.multiple_of >= 2 && range) {
      const auto m = static_cast<std::int64_t>(*b.multiple_of);
      std::int64_t base = range->has_low ? range->low : 0;
      base = base - (base % m) + m;
      out.push_back({base + 1, "", std::to_string(base + 1) + " not a multiple of " + std::to_string(m), false});
    }
    return out[rng_.below(out.size())];
  }

  std::optional<Edge> number_edge(const Json& schema) {
    const sv::Bounds b = sv::number_bounds(schema);
    std::vector<Edge> out;
    constexpr double kInf = std::numeric_limits<double>::infinity();
    const bool single = schema.value("format", "") == "float";
    auto inside = [&](double v) {
      if (single && std::fabs(v) > 3.4028234663852886e38) return false;
      if (b.min && (b.min_exclusive ? v <= *b.min : v < *b.min)) return false;
      if (b.max && (b.max_exclusive ? v >= *b.max : v > *b.max)) return false;
      if (b.multiple_of && std::fabs(std::remainder(v, *b.multiple_of)) > 1e-9) return false;
      return true;
    };
    if (b.min) {
      const double below = b.min_exclusive ? *b.min : std::nextafter(*b.min, -kInf);
      out.push_back({below, "",
                     number_text(below) + (b.min_exclusive ? " equal to exclusiveMinimum " : " just below minimum ") +
                         number_text(*b.min),
                     false});
      out.push_back({*b.min - 1, "", number_text(*b.min - 1) + " below minimum " + number_text(*b.min), false});
    }
    if (b.max) {
      const double above = b.max_exclusive ? *b.max : std::nextafter(*b.max, kInf);
      out.push_back({above, "",
                     number_text(above) + (b.max_exclusive ? " equal to exclusiveMaximum " : " just above maximum ") +
                         number_text(*b.max),
                     false});
      out.push_back({*b.max + 1, "", number_text(*b.max + 1) + " above maximum " + number_text(*b.max), false});
    }
    for (double v : {1.7976931348623157e308, -1.7976931348623157e308, 4.9e-324, -0.0, 0.30000000000000004, 1e-7})
      out.push_back({v, "", "number " + number_text(v), inside(v)});
    if (schema.value("format", "") == "float") out.push_back({3.5e38, "", "3.5e38 past float range", false});
    if (b.multiple_of) {
      const double v = *b.multiple_of * 1.5 + (b.min ? *b.min : 0);
      if (!inside(v) || std::fabs(std::remainder(v, *b.multiple_of)) > 1e-9)
        out.push_back({v, "", number_text(v) + " not a multiple of " + number_text(*b.multiple_of), false});
    }
    return out[rng_.below(out.size())];
  }

  bool text_conforms(const Json& schema, const std::string& text) {
    if (!valid_utf8(text)) return false;
    const std::string format = schema.value("format", "");
    return sv::string_fits(schema, text) && (format.empty() || formats::fits(format, text)) &&
           (formats::known(format) || format.empty() || format == "password" || format == "binary");
  }

  std::optional<Edge> string_edge(const Json& schema) {
    const std::size_t min = sv::size_keyword(schema, "minLength").value_or(0);
    const auto max = sv::size_keyword(schema, "maxLength");
    const std::string format = schema.value("format", "");
    std::vector<std::function<std::optional<Edge>()>> kinds;
    if (min > 0)
      kinds.push_back([&]() -> std::optional<Edge> {
        std::string text(min - 1, 'a');
        return Edge{text, "", "length " + std::to_string(min - 1) + " below minLength " + std::to_string(min), false};
      });
    if (max && *max < kMaxHugeBytes) {
      kinds.push_back([&]() -> std::optional<Edge> {
        std::string text(*max + 1, 'a');
        return Edge{text, "", "length " + std::to_string(*max + 1) + " above maxLength " + std::to_string(*max), false};
      });
      if (*max > 0 && *max * 4 < kMaxHugeBytes)
        kinds.push_back([&]() -> std::optional<Edge> {
          std::string text;
          for (std::size_t i = 0; i < *max; ++i) text += "\xF0\x9F\x98\x80";  // 😀: 1 character, 4 bytes
          return Edge{text, "", "maxLength " + std::to_string(*max) + " in 4-byte characters",
                      text_conforms(schema, text)};
        });
    }
    kinds.push_back([&]() -> std::optional<Edge> { return Edge{"", "", "empty string", text_conforms(schema, "")}; });
    if (!max) {
      kinds.push_back([&]() -> std::optional<Edge> {
        const std::size_t length = rng_.chance(0.5) ? 10000 : kMaxValueBytes;
        std::string text(length, 'A');
        return Edge{text, "", "string of " + std::to_string(length) + " characters", text_conforms(schema, text)};
      });
    }
    if (!format.empty() && !formats::violations(format).empty())
      kinds.push_back([&]() -> std::optional<Edge> {
        const auto all = formats::violations(format);
        const auto& v = all[rng_.below(all.size())];
        return Edge{v.text, "", "format " + format + ": " + v.what + " (" + brief(v.text) + ")", false};
      });
    if (schema.contains("pattern") && schema["pattern"].is_string())
      kinds.push_back([&]() -> std::optional<Edge> {
        const std::string pattern = schema["pattern"];
        std::vector<std::string> tries = {"", "!", " ", "\x01", "zzzz", "0", "-", "A", "a b", "\xC3\xA9"};
        const std::size_t start = rng_.below(tries.size());
        for (std::size_t i = 0; i < tries.size(); ++i) {
          const std::string& text = tries[(start + i) % tries.size()];
          if (!sv::pattern_matches(pattern, text))
            return Edge{text, "", brief(text) + " does not match pattern " + pattern, false};
        }
        return std::nullopt;
      });
    if (schema.contains("const") || schema.contains("enum")) kinds.push_back([&] { return enum_outsider(schema); });
    for (int attempt = 0; attempt < 4 && !kinds.empty(); ++attempt) {
      const std::size_t i = rng_.below(kinds.size());
      if (auto e = kinds[i]()) return e;
      kinds.erase(kinds.begin() + static_cast<std::ptrdiff_t>(i));
    }
    return std::nullopt;
  }

  std::optional<Edge> interesting(const Json& schema) {
    const auto& all = interesting_strings();
    const auto& pick = all[rng_.below(all.size())];
    return Edge{pick.text, "", pick.label, text_conforms(schema, pick.text)};
  }

  std::optional<Edge> array_edge(const Json& schema, int depth) {
    const std::size_t min = sv::size_keyword(schema, "minItems").value_or(0);
    const auto max = sv::size_keyword(schema, "maxItems");
    const Json items = schema.contains("items") ? schema["items"] : Json::object();
    const bool unique = schema.value("uniqueItems", false);
    auto filled = [&](std::size_t count) {
      Json out = Json::array();
      for (std::size_t i = 0; i < count; ++i) out.push_back(valid(items));
      return out;
    };
    switch (rng_.below(6)) {
      case 0:
        if (min == 0) return std::nullopt;
        return Edge{filled(min - 1), "", std::to_string(min - 1) + " items below minItems " + std::to_string(min),
                    false};
      case 1:
        if (!max || *max > 10000) return std::nullopt;
        return Edge{filled(*max + 1), "", std::to_string(*max + 1) + " items above maxItems " + std::to_string(*max),
                    false};
      case 2: {
        if (!unique || (max && *max < 2)) return std::nullopt;
        const Json one = valid(items);
        Json out = filled(min > 2 ? min - 2 : 0);
        out.push_back(one);
        out.push_back(one);
        return Edge{out, "", "duplicate items where uniqueItems", false};
      }
      case 3: {
        const Json one = valid(items);
        const std::size_t size = json_text(one).size() + 1;
        const std::size_t count = std::max<std::size_t>(1, std::min<std::size_t>(10000, kMaxHugeBytes / size));
        Json out = Json::array();
        for (std::size_t i = 0; i < count; ++i) out.push_back(one);
        const bool fits = (!max || count <= *max) && count >= min && (!unique || count < 2);
        return Edge{out, "", std::to_string(count) + " items", fits};
      }
      case 4: {
        Json out = Json::array();
        for (std::size_t i = 0; i < min; ++i) out.push_back(valid(items));
        Edge inner = edge(items, depth + 1);
        std::size_t at = out.empty() ? 0 : rng_.below(out.size() + (max && out.size() >= *max ? 0 : 1));
        if (at == out.size()) {
          out.push_back(inner.value);
        } else {
          out[at] = inner.value;
        }
        bool repeated = false;
        for (std::size_t i = 0; unique && i < out.size(); ++i)
          for (std::size_t j = i + 1; j < out.size(); ++j) repeated = repeated || out[i] == out[j];
        const bool fits = inner.conforms && (!max || out.size() <= *max) && !repeated;
        return Edge{out, join(std::to_string(at), inner.path), inner.what, fits};
      }
      default: {
        // Only an items schema that says nothing (or a recursion the loader cut, which validates
        // anything) takes arrays of arrays.
        const bool open = (items.is_object() && items.empty()) || sv::is_cycle(items) || items == true;
        const int depth_of = rng_.chance(0.5) ? 1000 : 100;
        return Edge{nesting(depth_of, true), "", "arrays nested " + std::to_string(depth_of) + " deep",
                    open && min <= 1 && (!max || *max >= 1)};
      }
    }
  }

  static std::string join(const std::string& head, const std::string& tail) {
    return tail.empty() ? head : head + "/" + tail;
  }

  static Json nesting(int depth, bool arrays) {
    Json out = arrays ? Json::array() : Json::object();
    for (int i = 0; i < depth; ++i) out = arrays ? Json::array({std::move(out)}) : Json{{"a", std::move(out)}};
    return out;
  }

  std::optional<Edge> object_edge(const Json& schema, int depth) {
    const Json properties =
        schema.contains("properties") && schema["properties"].is_object() ? schema["properties"] : Json::object();
    std::vector<std::string> required;
    if (auto it = schema.find("required"); it != schema.end() && it->is_array())
      for (const auto& name : *it)
        if (name.is_string()) required.push_back(name.get<std::string>());
    // Extra properties conform only where any is allowed (a typed additionalProperties would judge them).
    const Json additional = schema.contains("additionalProperties") ? schema["additionalProperties"] : Json(true);
    const bool open = additional == true || (additional.is_object() && additional.empty());
    Json base = valid(schema);
    if (!base.is_object()) base = Json::object();
    switch (rng_.below(properties.empty() ? 4 : 7)) {
      case 0: {
        if (required.empty()) return std::nullopt;
        const std::string& name = required[rng_.below(required.size())];
        base.erase(name);
        return Edge{base, "", "required property '" + name + "' missing", false};
      }
      case 1:
        if (required.empty()) return std::nullopt;
        return Edge{Json::object(), "",
                    "empty object (" + std::to_string(required.size()) + " required properties missing)", false};
      case 2: {
        static const std::pair<const char*, Json> kExtras[] = {
            {"isAdmin", true}, {"role", "admin"}, {"id", 1}, {"owner", "someone-else"}, {"chaosplus_extra", "x"}};
        const auto& [name, value] = kExtras[rng_.below(std::size(kExtras))];
        if (properties.contains(name)) return std::nullopt;
        const bool typed = additional.is_object() && !additional.empty();
        base[name] = typed ? valid(additional) : value;  // a typed additionalProperties gets its type
        return Edge{base, "", std::string("extra property '") + name + "'", open || typed};
      }
      case 3: {
        // Under a property of its own, so the rest of the object stays valid.
        const int depth_of = rng_.chance(0.5) ? 1000 : 100;
        if (properties.contains("nested")) return std::nullopt;
        base["nested"] = nesting(depth_of, false);
        return Edge{base, "", "objects nested " + std::to_string(depth_of) + " deep under 'nested'", open};
      }
      default: {
        auto it = properties.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(rng_.below(properties.size())));
        Edge inner = edge(it.value(), depth + 1);
        base[it.key()] = inner.value;
        return Edge{base, join(it.key(), inner.path), inner.what, inner.conforms};
      }
    }
  }

  Rng& rng_;
  const ValueLimits& limits_;
};

}  // namespace

EdgeValue edge_value(const Json& schema, Rng& rng, const ValueLimits& limits) {
  Edge e = Edges(rng, limits).edge(schema, 0);
  return EdgeValue{std::move(e.value), e.path.empty() ? e.what : e.path + ": " + e.what, e.conforms};
}

}  // namespace chaosplus::fuzz
