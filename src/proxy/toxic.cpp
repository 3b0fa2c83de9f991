#include "proxy/toxic.h"

#include <cmath>

namespace chaosplus::proxy {

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

struct AttributeRule {
  const char* key;
  bool required;
  std::int64_t fallback;
  std::int64_t min;
  std::int64_t max;
  const char* unit;
};

struct TypeRules {
  ToxicType type;
  const char* name;
  std::vector<AttributeRule> attributes;
};

const std::vector<TypeRules>& rules() {
  static const std::vector<TypeRules> table = {
      {ToxicType::latency,
       "latency",
       {{"latency", true, 0, 0, kDayMs, "milliseconds"}, {"jitter", false, 0, 0, kDayMs, "milliseconds"}}},
      // rate 0 means "no limit" in Toxiproxy, which surprises; we ask for a real rate instead.
      {ToxicType::bandwidth, "bandwidth", {{"rate", true, 0, 1, 10'000'000, "KB/s"}}},
      {ToxicType::timeout, "timeout", {{"timeout", true, 0, 0, kDayMs, "milliseconds"}}},
      {ToxicType::reset_peer, "reset_peer", {{"timeout", false, 0, 0, kDayMs, "milliseconds"}}},
      {ToxicType::slow_close, "slow_close", {{"delay", true, 0, 0, kDayMs, "milliseconds"}}},
      {ToxicType::limit_data, "limit_data", {{"bytes", true, 0, 0, std::int64_t{1} << 50, "bytes"}}},
      {ToxicType::slicer,
       "slicer",
       {{"average_size", true, 0, 1, 16 * 1024 * 1024, "bytes"},
        {"size_variation", false, 0, 0, 16 * 1024 * 1024, "bytes"},
        {"delay", false, 0, 0, kDayMs * 1000, "microseconds"}}},
  };
  return table;
}

const TypeRules& rules_for(ToxicType type) {
  for (const auto& r : rules()) {
    if (r.type == type) return r;
  }
  return rules().front();  // unreachable: every type has rules
}

std::string attribute_names(const TypeRules& r) {
  std::string out;
  for (const auto& a : r.attributes) {
    if (!out.empty()) out += ", ";
    out += a.key;
  }
  return out;
}

// Checks `attributes` against the rules of `type` and fills in the defaults of absent optional ones.
Result<Attributes> check_attributes(ToxicType type, const Attributes& attributes) {
  const TypeRules& r = rules_for(type);
  for (const auto& [key, value] : attributes) {
    bool known = false;
    for (const auto& a : r.attributes) known = known || key == a.key;
    if (!known) {
      return Error{"unknown attribute '" + key + "' for toxic type " + r.name + " (expected: " + attribute_names(r) +
                   ")"};
    }
  }
  Attributes out;
  for (const auto& a : r.attributes) {
    auto it = attributes.find(a.key);
    if (it == attributes.end()) {
      if (a.required) {
        return Error{std::string("missing attribute '") + a.key + "' for toxic type " + r.name + " (" + a.unit + ")"};
      }
      out[a.key] = a.fallback;
      continue;
    }
    if (it->second < a.min || it->second > a.max) {
      return Error{std::string("attribute '") + a.key + "' of toxic type " + r.name + " must be between " +
                   std::to_string(a.min) + " and " + std::to_string(a.max) + " " + a.unit + ", got " +
                   std::to_string(it->second)};
    }
    out[a.key] = it->second;
  }
  if (type == ToxicType::slicer && out["size_variation"] >= out["average_size"]) {
    return Error{"attribute 'size_variation' of toxic type slicer must be smaller than 'average_size' (got " +
                 std::to_string(out["size_variation"]) + " >= " + std::to_string(out["average_size"]) + ")"};
  }
  return out;
}

Status check_toxicity(double toxicity) {
  if (!std::isfinite(toxicity) || toxicity < 0.0 || toxicity > 1.0) {
    return Error{"toxicity must be a number between 0 and 1, got " + std::to_string(toxicity)};
  }
  return ok_status();
}

}  // namespace

std::string_view to_string(ToxicType type) { return rules_for(type).name; }

std::string_view to_string(Stream stream) { return stream == Stream::upstream ? "upstream" : "downstream"; }

std::optional<ToxicType> parse_toxic_type(std::string_view text) {
  for (const auto& r : rules()) {
    if (text == r.name) return r.type;
  }
  return std::nullopt;
}

std::optional<Stream> parse_stream(std::string_view text) {
  if (text == "upstream") return Stream::upstream;
  if (text == "downstream") return Stream::downstream;
  return std::nullopt;
}

std::string toxic_type_list() {
  std::string out;
  for (const auto& r : rules()) {
    if (!out.empty()) out += ", ";
    out += r.name;
  }
  return out;
}

std::int64_t ToxicSpec::attribute(const std::string& key) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? 0 : it->second;
}

Status check_name(std::string_view what, std::string_view name) {
  if (name.empty()) return Error{std::string(what) + " must not be empty"};
  if (name.size() > 128) return Error{std::string(what) + " is longer than 128 characters"};
  for (char c : name) {
    bool fine =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!fine) {
      return Error{std::string(what) + " '" + std::string(name) +
                   "' may contain only letters, digits, '_', '-' and '.'"};
    }
  }
  return ok_status();
}

Result<ToxicSpec> make_toxic(const ToxicDraft& draft) {
  ToxicSpec spec;
  if (draft.type.empty()) return Error{"missing toxic type (one of: " + toxic_type_list() + ")"};
  auto type = parse_toxic_type(draft.type);
  if (!type) return Error{"unknown toxic type '" + draft.type + "' (one of: " + toxic_type_list() + ")"};
  spec.type = *type;
  if (draft.stream) {
    auto stream = parse_stream(*draft.stream);
    if (!stream) return Error{"stream must be 'upstream' or 'downstream', got '" + *draft.stream + "'"};
    spec.stream = *stream;
  }
  spec.toxicity = draft.toxicity.value_or(1.0);
  if (auto s = check_toxicity(spec.toxicity); !s) return Error{s.error()};
  spec.name = draft.name.value_or(std::string(to_string(spec.type)) + "_" + std::string(to_string(spec.stream)));
  if (auto s = check_name("toxic name", spec.name); !s) return Error{s.error()};
  auto attributes = check_attributes(spec.type, draft.attributes);
  if (!attributes) return Error{attributes.error()};
  spec.attributes = std::move(attributes).value();
  return spec;
}

Result<ToxicSpec> update_toxic(const ToxicSpec& current, std::optional<double> toxicity, const Attributes& attributes) {
  ToxicSpec spec = current;
  if (toxicity) {
    if (auto s = check_toxicity(*toxicity); !s) return Error{s.error()};
    spec.toxicity = *toxicity;
  }
  Attributes merged = current.attributes;
  for (const auto& [key, value] : attributes) merged[key] = value;
  auto checked = check_attributes(spec.type, merged);
  if (!checked) return Error{checked.error()};
  spec.attributes = std::move(checked).value();
  return spec;
}

}  // namespace chaosplus::proxy
