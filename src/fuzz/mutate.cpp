#include "fuzz/mutate.h"

#include <array>
#include <string>
#include <vector>

#include "fuzz/values.h"

namespace chaosplus::fuzz {
namespace {

constexpr std::size_t kMaxLeaves = 64;
constexpr std::size_t kMaxBytes = 1 << 20;

// The schema of the case's body for its content type, or null.
const Json* body_schema(const RequestCase& c, const openapi::Operation* op) {
  if (op == nullptr || !op->body) return nullptr;
  for (const openapi::Media& m : op->body->content) {
    if (m.content_type == c.body_content_type) return &m.schema;
  }
  return op->body->content.empty() ? nullptr : &op->body->content.front().schema;
}

// The schema below `schema` at `pointer` (through properties and items), or null.
using Path = std::vector<std::string>;  // JSON pointer tokens (json_pointer does not expose them)

Json::json_pointer pointer_of(const Path& path) {
  Json::json_pointer p;
  for (const std::string& token : path) p /= token;
  return p;
}

const Json* schema_at(const Json* schema, const Path& path) {
  const Json* at = schema;
  for (const std::string& token : path) {
    if (at == nullptr || !at->is_object()) return nullptr;
    if (at->contains("properties") && (*at)["properties"].contains(token)) {
      at = &(*at)["properties"][token];
    } else if (at->contains("items") && (*at)["items"].is_object()) {
      at = &(*at)["items"];
    } else if (at->contains("additionalProperties") && (*at)["additionalProperties"].is_object()) {
      at = &(*at)["additionalProperties"];
    } else {
      return nullptr;
    }
  }
  return at;
}

const Json* parameter_schema(const openapi::Operation* op, const std::string& name, openapi::ParameterIn in) {
  if (op == nullptr) return nullptr;
  for (const openapi::Parameter& p : op->parameters) {
    if (p.name == name && p.in == in) return &p.schema;
  }
  return nullptr;
}

void collect_leaves(const Json& value, const Path& at, std::vector<Path>& out) {
  if (out.size() >= kMaxLeaves) return;
  if (value.is_object() && !value.empty()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      Path next = at;
      next.push_back(it.key());
      collect_leaves(it.value(), next, out);
    }
  } else if (value.is_array() && !value.empty()) {
    for (std::size_t i = 0; i < value.size() && i < 8; ++i) {
      Path next = at;
      next.push_back(std::to_string(i));
      collect_leaves(value[i], next, out);
    }
  } else {
    out.push_back(at);
  }
}

// A replacement for a value: an edge of its schema when known, else an interesting string.
Json replacement(const Json* schema, Rng& rng, std::string& what) {
  if (schema != nullptr && rng.chance(0.6)) {
    EdgeValue edge = edge_value(*schema, rng);
    what = edge.what;
    return std::move(edge.value);
  }
  const auto& strings = interesting_strings();
  const InterestingString& s = strings[rng.below(strings.size())];
  what = s.label;
  return s.text;
}

// The same value as another JSON type.
Json other_type(const Json& value, Rng& rng, std::string& what) {
  static constexpr std::array<const char*, 6> kTypes{"string", "integer", "number", "boolean", "array", "object"};
  const std::string type = kTypes[rng.below(kTypes.size())];
  what = "changed to " + type;
  if (type == "string") return value.is_string() ? Json(value.get<std::string>() + "x") : Json(value.dump());
  if (type == "integer") return value.is_number_integer() ? Json(-1) : Json(1);
  if (type == "number") return 1.5;
  if (type == "boolean") return !value.is_boolean() || !value.get<bool>();
  if (type == "array") return Json::array({value});
  return Json{{"value", value}};
}

std::string describe(const Path& at) {
  const std::string p = pointer_of(at).to_string();
  return p.empty() ? std::string("body") : "body" + p;
}

bool mutate_body(RequestCase& out, Rng& rng, const MutationContext& context) {
  if (!out.body) return false;
  std::vector<Path> leaves;
  collect_leaves(*out.body, Path(), leaves);
  const Json* schema = body_schema(out, context.operation);
  std::string what;
  switch (rng.below(5)) {
    case 0: {  // a leaf replaced by an edge or interesting value
      const Path& at = leaves[rng.below(leaves.size())];
      Json value = replacement(schema_at(schema, at), rng, what);
      if (at.empty()) {
        out.body = std::move(value);
      } else {
        (*out.body)[pointer_of(at)] = std::move(value);
      }
      out.mutation = describe(at) + ": " + what;
      return true;
    }
    case 1: {  // a leaf's type changed
      const Path& at = leaves[rng.below(leaves.size())];
      Json& target = at.empty() ? *out.body : (*out.body)[pointer_of(at)];
      target = other_type(target, rng, what);
      out.mutation = describe(at) + ": " + what;
      return true;
    }
    case 2: {  // a member dropped
      if (!out.body->is_object() || out.body->empty()) return false;
      auto it = out.body->begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng.below(out.body->size())));
      const std::string key = it.key();
      out.body->erase(key);
      out.mutation = "body/" + key + ": dropped";
      return true;
    }
    case 3: {  // an unexpected member added, or a member duplicated under another name
      if (!out.body->is_object()) return false;
      if (!out.body->empty() && rng.chance(0.5)) {
        auto it = out.body->begin();
        std::advance(it, static_cast<std::ptrdiff_t>(rng.below(out.body->size())));
        (*out.body)[it.key() + "_"] = it.value();
        out.mutation = "body/" + it.key() + "_: duplicated member";
      } else {
        static constexpr std::array<const char*, 5> kNames{"admin", "role", "id", "isAdmin", "__proto__"};
        const char* name = kNames[rng.below(kNames.size())];
        (*out.body)[name] = rng.chance(0.5) ? Json(true) : Json("admin");
        out.mutation = std::string("body/") + name + ": extra member";
      }
      return true;
    }
    default: {  // a value borrowed from another case of the corpus
      if (context.corpus == nullptr || context.corpus->empty()) return false;
      const RequestCase& other = (*context.corpus)[rng.below(context.corpus->size())];
      if (!other.body || !other.body->is_object() || other.body->empty() || !out.body->is_object()) return false;
      auto it = other.body->begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng.below(other.body->size())));
      (*out.body)[it.key()] = it.value();
      out.mutation = "body/" + it.key() + ": value from the corpus";
      return true;
    }
  }
}

bool mutate_parameter(RequestCase& out, Rng& rng, const MutationContext& context) {
  const std::size_t total = out.query.size() + out.path_params.size() + out.headers.size() + out.cookies.size();
  if (total == 0) return false;
  std::size_t pick = rng.below(total);
  std::string what;
  if (pick < out.query.size()) {
    auto& [name, value] = out.query[pick];
    value = rng.chance(0.2)
                ? other_type(value, rng, what)
                : replacement(parameter_schema(context.operation, name, openapi::ParameterIn::query), rng, what);
    out.mutation = "query." + name + ": " + what;
    return true;
  }
  pick -= out.query.size();
  if (pick < out.path_params.size()) {
    auto it = out.path_params.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(pick));
    it->second = replacement(parameter_schema(context.operation, it->first, openapi::ParameterIn::path), rng, what);
    out.mutation = "path." + it->first + ": " + what;
    return true;
  }
  pick -= out.path_params.size();
  if (pick < out.headers.size()) {
    auto& [name, value] = out.headers[pick];
    Json v = replacement(parameter_schema(context.operation, name, openapi::ParameterIn::header), rng, what);
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    // A header value cannot carry CR, LF or NUL without becoming another request: those stay out.
    std::erase_if(text, [](char ch) { return ch == '\r' || ch == '\n' || ch == '\0'; });
    value = std::move(text);
    out.mutation = "header." + name + ": " + what;
    return true;
  }
  pick -= out.headers.size();
  auto it = out.cookies.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(pick));
  it->second = replacement(parameter_schema(context.operation, it->first, openapi::ParameterIn::cookie), rng, what);
  out.mutation = "cookie." + it->first + ": " + what;
  return true;
}

}  // namespace

std::string damage_bytes(std::string bytes, Rng& rng, std::string* what) {
  static constexpr std::array<unsigned char, 12> kInteresting{0x00, 0x01, 0x7f, 0x80, 0xff, '"',
                                                              '\'', '\\', '{',  '}',  '\r', '\n'};
  std::string done;
  const int edits = 1 + static_cast<int>(rng.below(4));
  for (int i = 0; i < edits; ++i) {
    const std::size_t n = bytes.size();
    switch (n == 0 ? 2 : rng.below(6)) {
      case 0: {
        const std::size_t at = rng.below(n);
        bytes[at] = static_cast<char>(static_cast<unsigned char>(bytes[at]) ^ (1u << rng.below(8)));
        done += "bit flip; ";
        break;
      }
      case 1: {
        bytes.erase(rng.below(n), 1 + rng.below(std::min<std::size_t>(n, 8)));
        done += "bytes deleted; ";
        break;
      }
      case 2: {
        const std::size_t at = n == 0 ? 0 : rng.below(n + 1);
        bytes.insert(at, 1, static_cast<char>(kInteresting[rng.below(kInteresting.size())]));
        done += "interesting byte inserted; ";
        break;
      }
      case 3: {
        const std::size_t at = rng.below(n);
        bytes[at] = static_cast<char>(kInteresting[rng.below(kInteresting.size())]);
        done += "byte replaced; ";
        break;
      }
      case 4: {
        const std::size_t at = rng.below(n);
        const std::size_t len = 1 + rng.below(std::min<std::size_t>(n - at, 64));
        const std::string chunk = bytes.substr(at, len);
        const std::size_t times = 1 + rng.below(16);
        for (std::size_t t = 0; t < times && bytes.size() + chunk.size() <= kMaxBytes; ++t) bytes.insert(at, chunk);
        done += "chunk duplicated; ";
        break;
      }
      default:
        bytes.resize(rng.below(n));
        done += "truncated; ";
        break;
    }
  }
  if (bytes.size() > kMaxBytes) bytes.resize(kMaxBytes);
  if (what != nullptr) *what = done.substr(0, done.size() - 2);
  return bytes;
}

RequestCase mutate(const RequestCase& base, Rng& rng, const MutationContext& context) {
  RequestCase out = base;
  out.expect_valid = false;
  if (out.raw) {
    std::string what;
    out.raw = damage_bytes(*out.raw, rng, &what);
    out.mutation = "raw: " + what;
    return out;
  }
  out.raw_body.reset();
  // Body or parameters, whichever the case has; a few tries before falling back to bytes.
  for (int attempt = 0; attempt < 4; ++attempt) {
    const bool body_first = out.body.has_value() && rng.chance(0.6);
    if (body_first ? mutate_body(out, rng, context) : mutate_parameter(out, rng, context)) return out;
  }
  return mutate_bytes(base, rng);
}

RequestCase mutate_bytes(const RequestCase& base, Rng& rng) {
  RequestCase out = base;
  out.expect_valid = false;
  std::string body;
  if (base.raw_body) {
    body = *base.raw_body;
  } else if (base.body) {
    // The body as render() writes it: take it from the rendered bytes.
    static const net::Url kBase = *net::Url::parse("http://127.0.0.1:1/");
    RequestCase plain = base;
    plain.raw.reset();
    const std::string bytes = render(plain, kBase);
    const std::size_t head_end = bytes.find("\r\n\r\n");
    body = head_end == std::string::npos ? std::string() : bytes.substr(head_end + 4);
  } else {
    const auto& strings = interesting_strings();
    body = strings[rng.below(strings.size())].text;
  }
  std::string what;
  out.raw_body = damage_bytes(std::move(body), rng, &what);
  out.mutation = "body bytes: " + what;
  return out;
}

}  // namespace chaosplus::fuzz
