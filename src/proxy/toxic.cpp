#include "proxy/toxic.h"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace chaosplus::proxy {

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kMaxBody = 64 * 1024;
constexpr std::size_t kMaxPath = 2048;

// Checks a text attribute; returns why it is wrong, or an empty string.
using TextCheck = std::string (*)(std::string_view value);

struct AttributeRule {
  const char* key;
  bool required;
  std::int64_t fallback;
  std::int64_t min;
  std::int64_t max;
  const char* unit;           // numbers: the unit; text: what the value is, for messages
  TextCheck check = nullptr;  // set for text attributes
  const char* text_fallback = "";

  bool is_text() const { return check != nullptr; }
};

AttributeRule number(const char* key, bool required, std::int64_t min, std::int64_t max, const char* unit,
                     std::int64_t fallback = 0) {
  return {key, required, fallback, min, max, unit};
}

AttributeRule text(const char* key, const char* what, TextCheck check, const char* fallback = "") {
  return {key, false, 0, 0, 0, what, check, fallback};
}

bool is_upper_token_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

std::string check_methods(std::string_view value) {
  if (value.empty() || value == "*") return {};
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view method = value.substr(start, comma - start);
    while (!method.empty() && method.front() == ' ') method.remove_prefix(1);
    while (!method.empty() && method.back() == ' ') method.remove_suffix(1);
    if (method.empty() || method.size() > 32) return "each method must be 1 to 32 characters";
    for (char c : method) {
      if (c >= 'a' && c <= 'z') {
        std::string upper(method);
        for (auto& u : upper) u = (u >= 'a' && u <= 'z') ? static_cast<char>(u - 'a' + 'A') : u;
        return "HTTP methods are case-sensitive: write '" + upper + "', not '" + std::string(method) + "'";
      }
      if (!is_upper_token_char(c)) return "'" + std::string(method) + "' is not an HTTP method";
    }
    start = comma + 1;
  }
  return {};
}

std::string check_path(std::string_view value) {
  if (value.empty() || value == "*") return {};
  if (value.front() != '/') return "a path starts with '/' (or is '*' for any path)";
  if (value.size() > kMaxPath) return "a path is at most " + std::to_string(kMaxPath) + " characters";
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return "a path may not contain spaces or control characters";
    if (c == '?' || c == '#') return "only the path is matched: leave out the query string ('?...') and fragment";
  }
  return {};
}

std::string check_body(std::string_view value) {
  if (value.size() > kMaxBody) return "a body is at most " + std::to_string(kMaxBody) + " bytes";
  return {};
}

std::string check_header_value(std::string_view value) {
  if (value.size() > 256) return "at most 256 characters";
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return "control characters (such as line breaks) are not allowed";
  }
  return {};
}

std::string check_abort_mode(std::string_view value) {
  if (value == "close" || value == "reset") return {};
  return "must be 'close' (FIN) or 'reset' (RST)";
}

struct TypeRules {
  ToxicType type;
  const char* name;
  std::vector<AttributeRule> attributes;
};

const std::vector<TypeRules>& rules() {
  static const std::vector<TypeRules> table = {
      {ToxicType::latency,
       "latency",
       {number("latency", true, 0, kDayMs, "milliseconds"), number("jitter", false, 0, kDayMs, "milliseconds")}},
      // rate 0 means "no limit" in Toxiproxy, which surprises; we ask for a real rate instead.
      {ToxicType::bandwidth, "bandwidth", {number("rate", true, 1, 10'000'000, "KB/s")}},
      {ToxicType::timeout, "timeout", {number("timeout", true, 0, kDayMs, "milliseconds")}},
      {ToxicType::reset_peer, "reset_peer", {number("timeout", false, 0, kDayMs, "milliseconds")}},
      {ToxicType::slow_close, "slow_close", {number("delay", true, 0, kDayMs, "milliseconds")}},
      {ToxicType::limit_data, "limit_data", {number("bytes", true, 0, std::int64_t{1} << 50, "bytes")}},
      {ToxicType::slicer,
       "slicer",
       {number("average_size", true, 1, 16 * 1024 * 1024, "bytes"),
        number("size_variation", false, 0, 16 * 1024 * 1024, "bytes"),
        number("delay", false, 0, kDayMs * 1000, "microseconds")}},
      // Status 1xx is refused: an interim answer would leave the client waiting for a final one.
      {ToxicType::http_status,
       "http_status",
       {text("method", "methods such as POST or GET,HEAD; empty for any", check_methods),
        text("path", "a path such as /orders, /orders/* or *", check_path),
        number("status", false, 200, 599, "(an HTTP status code)", 503), text("body", "the response body", check_body),
        text("content_type", "a Content-Type header value", check_header_value, "text/plain; charset=utf-8")}},
      {ToxicType::http_delay,
       "http_delay",
       {text("method", "methods such as POST or GET,HEAD; empty for any", check_methods),
        text("path", "a path such as /orders, /orders/* or *", check_path),
        number("delay", true, 0, kDayMs, "milliseconds"), number("jitter", false, 0, kDayMs, "milliseconds")}},
      {ToxicType::http_abort,
       "http_abort",
       {text("method", "methods such as POST or GET,HEAD; empty for any", check_methods),
        text("path", "a path such as /orders, /orders/* or *", check_path),
        number("bytes", false, 0, std::int64_t{1} << 50, "bytes of the response body"),
        text("mode", "close or reset", check_abort_mode, "close")}},
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

std::string range_text(const AttributeRule& a) {
  return "between " + std::to_string(a.min) + " and " + std::to_string(a.max) + " " + a.unit;
}

// Checks one present attribute against its rule.
Status check_value(const TypeRules& r, const AttributeRule& a, const AttributeValue& value) {
  const std::string where = std::string("attribute '") + a.key + "' of toxic type " + r.name;
  if (a.is_text()) {
    if (!value.is_text())
      return Error{where + " must be a string (" + a.unit + "), got " + std::to_string(value.number())};
    if (auto why = a.check(value.text()); !why.empty())
      return Error{where + ": " + why + " (got '" + value.text() + "')"};
    return ok_status();
  }
  if (!value.is_number()) return Error{where + " must be a number " + range_text(a) + ", got '" + value.text() + "'"};
  if (value.number() < a.min || value.number() > a.max) {
    return Error{where + " must be " + range_text(a) + ", got " + std::to_string(value.number())};
  }
  return ok_status();
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
      out[a.key] = a.is_text() ? AttributeValue(a.text_fallback) : AttributeValue(a.fallback);
      continue;
    }
    if (auto s = check_value(r, a, it->second); !s) return Error{s.error()};
    out[a.key] = it->second;
  }
  if (type == ToxicType::slicer && out["size_variation"].number() >= out["average_size"].number()) {
    return Error{"attribute 'size_variation' of toxic type slicer must be smaller than 'average_size' (got " +
                 std::to_string(out["size_variation"].number()) +
                 " >= " + std::to_string(out["average_size"].number()) + ")"};
  }
  return out;
}

Status check_toxicity(double toxicity) {
  if (!std::isfinite(toxicity) || toxicity < 0.0 || toxicity > 1.0) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", toxicity);
    return Error{std::string("field 'toxicity' must be a number between 0 and 1, got ") + shown};
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

bool is_http(ToxicType type) {
  return type == ToxicType::http_status || type == ToxicType::http_delay || type == ToxicType::http_abort;
}

std::int64_t AttributeValue::number() const {
  const auto* n = std::get_if<std::int64_t>(&value_);
  return n ? *n : 0;
}

const std::string& AttributeValue::text() const {
  static const std::string kNone;
  const auto* t = std::get_if<std::string>(&value_);
  return t ? *t : kNone;
}

std::ostream& operator<<(std::ostream& out, const AttributeValue& value) {
  if (value.is_number()) return out << value.number();
  return out << '"' << value.text() << '"';
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
  return it == attributes.end() ? 0 : it->second.number();
}

const std::string& ToxicSpec::text(const std::string& key) const {
  static const std::string kNone;
  auto it = attributes.find(key);
  return it == attributes.end() ? kNone : it->second.text();
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
  if (is_http(spec.type)) spec.stream = Stream::upstream;
  if (draft.stream) {
    auto stream = parse_stream(*draft.stream);
    if (!stream) return Error{"stream must be 'upstream' or 'downstream', got '" + *draft.stream + "'"};
    if (is_http(spec.type) && *stream != Stream::upstream) {
      return Error{"toxic type " + draft.type +
                   " acts on requests, so its stream is 'upstream' (the direction requests travel); got '" +
                   *draft.stream + "'"};
    }
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
