#include "fuzz/mutate.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <limits>

#include "fuzz/encoding.h"
#include "fuzz/schema_view.h"
#include "fuzz/values.h"

namespace chaosplus::fuzz {
namespace {

namespace sv = schema_view;

const net::Url& any_base() {
  static const net::Url kBase{"http", "127.0.0.1", 80, "/"};
  return kBase;
}

// Pointers to the leaves (and, with `containers`, to objects and arrays) of a value, in document
// order, at most `limit` of them.
void collect(const Json& value, const Json::json_pointer& at, std::vector<Json::json_pointer>& out, bool containers,
             std::size_t limit) {
  if (out.size() >= limit) return;
  if (value.is_object()) {
    if (containers) out.push_back(at);
    for (const auto& [key, item] : value.items()) collect(item, at / key, out, containers, limit);
  } else if (value.is_array()) {
    if (containers) out.push_back(at);
    for (std::size_t i = 0; i < value.size() && i < 64; ++i) collect(value[i], at / i, out, containers, limit);
  } else {
    out.push_back(at);
  }
}

std::string where(const Json::json_pointer& pointer) {
  const std::string text = pointer.to_string();
  return text.empty() ? "" : text.substr(1);
}

// The schema for the place `pointer` names in a body of `schema`, following properties and items.
std::optional<Json> schema_at(const Json& schema, const Json::json_pointer& pointer) {
  Json current = sv::merged(schema);
  Json::json_pointer rest = pointer;
  std::vector<std::string> parts;
  while (!rest.empty()) {
    parts.push_back(rest.back());
    rest.pop_back();
  }
  std::reverse(parts.begin(), parts.end());
  for (const auto& part : parts) {
    if (!current.is_object()) return std::nullopt;
    if (current.contains("properties") && current["properties"].contains(part)) {
      current = sv::merged(current["properties"][part]);
    } else if (current.contains("items") && !part.empty() &&
               std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      current = sv::merged(current["items"]);
    } else if (current.contains("additionalProperties") && current["additionalProperties"].is_object()) {
      current = sv::merged(current["additionalProperties"]);
    } else {
      return std::nullopt;
    }
  }
  return current;
}

const openapi::Media* media_of(const openapi::Operation* op, const std::string& content_type) {
  if (!op || !op->body) return nullptr;
  for (const auto& media : op->body->content)
    if (media.content_type == content_type) return &media;
  return op->body->content.empty() ? nullptr : &op->body->content.front();
}

const openapi::Parameter* parameter_of(const openapi::Operation* op, const std::string& name) {
  if (!op) return nullptr;
  for (const auto& p : op->parameters)
    if (p.name == name) return &p;
  return nullptr;
}

// A replacement for a value whose schema is not known: another type, or a dictionary string.
std::pair<Json, std::string> blind_value(const Json& old, Rng& rng) {
  switch (rng.below(6)) {
    case 0: return {nullptr, "null"};
    case 1:
      return {old.is_string() ? Json(0) : Json(scalar_text(old)), old.is_string() ? "0 (type changed)" : "as a string"};
    case 2: return {Json::array({old}), "wrapped in an array"};
    case 3: return {Json{{"value", old}}, "wrapped in an object"};
    case 4: return {rng.chance(0.5) ? Json(-1) : Json(std::numeric_limits<std::int64_t>::max()), "boundary number"};
    default: {
      const auto& all = interesting_strings();
      const auto& pick = all[rng.below(all.size())];
      return {pick.text, pick.label};
    }
  }
}

std::pair<Json, std::string> replacement(const std::optional<Json>& schema, const Json& old, Rng& rng) {
  if (schema && rng.chance(0.7)) {
    EdgeValue edge = edge_value(*schema, rng);
    return {std::move(edge.value), edge.what};
  }
  return blind_value(old, rng);
}

// Leaf values of other corpus cases: bodies' leaves and query values.
std::optional<Json> corpus_value(const std::vector<RequestCase>* corpus, Rng& rng) {
  if (!corpus || corpus->empty()) return std::nullopt;
  const RequestCase& other = (*corpus)[rng.below(corpus->size())];
  if (other.body) {
    std::vector<Json::json_pointer> leaves;
    collect(*other.body, Json::json_pointer(), leaves, false, 256);
    if (!leaves.empty()) return (*other.body)[leaves[rng.below(leaves.size())]];
  }
  if (!other.query.empty()) return other.query[rng.below(other.query.size())].second;
  return std::nullopt;
}

bool mutate_body(RequestCase& r, Rng& rng, const MutationContext& context) {
  if (!r.body) return false;
  const openapi::Media* media = media_of(context.operation, r.body_content_type);
  std::vector<Json::json_pointer> leaves, nodes;
  collect(*r.body, Json::json_pointer(), leaves, false, 512);
  collect(*r.body, Json::json_pointer(), nodes, true, 512);
  Json& body = *r.body;
  switch (rng.below(6)) {
    case 0: {  // replace a leaf
      if (leaves.empty()) return false;
      const auto& at = leaves[rng.below(leaves.size())];
      auto [value, what] = replacement(media ? schema_at(media->schema, at) : std::nullopt, body[at], rng);
      body[at] = std::move(value);
      r.mutation = "body." + where(at) + ": replaced by " + what;
      return true;
    }
    case 1: {  // drop a member or an item
      std::vector<Json::json_pointer> members;
      for (const auto& p : nodes)
        if (!p.empty()) members.push_back(p);
      for (const auto& p : leaves)
        if (!p.empty() && std::find(members.begin(), members.end(), p) == members.end()) members.push_back(p);
      if (members.empty()) return false;
      const auto at = members[rng.below(members.size())];
      Json& parent = body[at.parent_pointer()];
      if (parent.is_object()) {
        parent.erase(at.back());
      } else {
        parent.erase(static_cast<std::size_t>(std::stoul(at.back())));
      }
      r.mutation = "body." + where(at) + ": dropped";
      return true;
    }
    case 2: {  // duplicate: an array item, or an object key (only raw JSON text can repeat a key)
      std::vector<Json::json_pointer> containers;
      for (const auto& p : nodes)
        if (body[p].is_structured() && !body[p].empty()) containers.push_back(p);
      if (containers.empty()) return false;
      const auto at = containers[rng.below(containers.size())];
      Json& node = body[at];
      if (node.is_array()) {
        node.push_back(node[rng.below(node.size())]);
        r.mutation = "body." + where(at) + ": item duplicated";
        return true;
      }
      auto it = node.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng.below(node.size())));
      const std::string key = it.key();
      auto [value, what] = blind_value(it.value(), rng);
      const std::string text = json_text(body);
      // The duplicate goes first in the object; the original (later) wins in most parsers, the first in some.
      const std::string inner = json_text(node);
      const std::size_t pos = text.find(inner);
      if (pos == std::string::npos) return false;
      r.raw_body = text.substr(0, pos + 1) + json_text(Json(key)) + ":" + json_text(value) + "," + text.substr(pos + 1);
      r.mutation = "body." + where(at / key) + ": key duplicated with " + what;
      return true;
    }
    case 3: {  // add a member
      std::vector<Json::json_pointer> objects;
      for (const auto& p : nodes)
        if (body[p].is_object()) objects.push_back(p);
      if (objects.empty()) return false;
      const auto at = objects[rng.below(objects.size())];
      static const char* kNames[] = {"isAdmin", "role", "id", "__proto__", "chaosplus"};
      const char* name = kNames[rng.below(std::size(kNames))];
      auto [value, what] = blind_value(Json("x"), rng);
      body[at][name] = std::move(value);
      r.mutation = "body." + where(at / name) + ": added (" + what + ")";
      return true;
    }
    case 4: {  // a value from another case
      if (leaves.empty()) return false;
      auto other = corpus_value(context.corpus, rng);
      if (!other) return false;
      const auto& at = leaves[rng.below(leaves.size())];
      body[at] = *other;
      r.mutation = "body." + where(at) + ": swapped with " + json_text(*other).substr(0, 40) + " from the corpus";
      return true;
    }
    default: {  // change a leaf's type
      if (leaves.empty()) return false;
      const auto& at = leaves[rng.below(leaves.size())];
      auto [value, what] = blind_value(body[at], rng);
      body[at] = std::move(value);
      r.mutation = "body." + where(at) + ": " + what;
      return true;
    }
  }
}

bool mutate_parameter(RequestCase& r, Rng& rng, const MutationContext& context) {
  struct Slot {
    std::string label;
    std::function<void(std::optional<Json>, Rng&)> apply;
    std::string name;
    Json old;
  };
  std::vector<Slot> slots;
  for (std::size_t i = 0; i < r.query.size(); ++i)
    slots.push_back({"query." + r.query[i].first,
                     [&r, i](std::optional<Json> v, Rng&) {
                       if (v) {
                         r.query[i].second = *v;
                       } else {
                         r.query.erase(r.query.begin() + static_cast<std::ptrdiff_t>(i));
                       }
                     },
                     r.query[i].first, r.query[i].second});
  for (auto& [name, value] : r.path_params)
    slots.push_back({"path." + name,
                     [&r, n = name](std::optional<Json> v, Rng&) {
                       if (v) {
                         r.path_params[n] = *v;
                       } else {
                         r.path_params[n] = "";
                       }
                     },
                     name, value});
  for (std::size_t i = 0; i < r.headers.size(); ++i)
    slots.push_back({"header." + r.headers[i].first,
                     [&r, i](std::optional<Json> v, Rng&) {
                       if (v) {
                         // A header value never carries CR, LF or NUL: those are protocol mutations, made raw.
                         std::string text = scalar_text(*v);
                         std::erase_if(text, [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
                         r.headers[i].second = std::move(text);
                       } else {
                         r.headers.erase(r.headers.begin() + static_cast<std::ptrdiff_t>(i));
                       }
                     },
                     r.headers[i].first, r.headers[i].second});
  for (auto& [name, value] : r.cookies)
    slots.push_back({"cookie." + name,
                     [&r, n = name](std::optional<Json> v, Rng&) {
                       if (v) {
                         r.cookies[n] = *v;
                       } else {
                         r.cookies.erase(n);
                       }
                     },
                     name, value});
  if (slots.empty()) return false;
  Slot& slot = slots[rng.below(slots.size())];
  if (rng.chance(0.15)) {
    slot.apply(std::nullopt, rng);
    r.mutation = slot.label + ": dropped";
    return true;
  }
  if (rng.chance(0.15)) {
    if (auto other = corpus_value(context.corpus, rng)) {
      slot.apply(*other, rng);
      r.mutation = slot.label + ": swapped with " + json_text(*other).substr(0, 40) + " from the corpus";
      return true;
    }
  }
  const openapi::Parameter* p = parameter_of(context.operation, slot.name);
  auto [value, what] = replacement(p ? std::optional<Json>(p->schema) : std::nullopt, slot.old, rng);
  slot.apply(value, rng);
  r.mutation = slot.label + ": replaced by " + what;
  return true;
}

std::string random_bytes(Rng& rng, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += static_cast<char>(rng.below(256));
  return out;
}

}  // namespace

std::string damage_bytes(std::string bytes, Rng& rng, std::string* what) {
  static const std::string kInteresting[] = {std::string(1, '\0'),
                                             "\xff",
                                             "\x7f",
                                             "\x80",
                                             "\n",
                                             "\r\n",
                                             "\"",
                                             "\\",
                                             "{",
                                             "}",
                                             "[",
                                             "]",
                                             ",",
                                             ":",
                                             "\xc0\x80",
                                             "%n",
                                             "%00",
                                             "\xef\xbb\xbf",
                                             "\xed\xa0\x80",
                                             "-1",
                                             "1e999",
                                             "null"};
  std::string done;
  const auto rounds = 1 + rng.below(3);
  for (std::uint64_t round = 0; round < rounds; ++round) {
    const std::size_t size = bytes.size();
    const std::size_t at = size == 0 ? 0 : rng.below(size);
    std::string step;
    switch (size == 0 ? 2 : rng.below(7)) {
      case 0: {
        const int bit = static_cast<int>(rng.below(8));
        bytes[at] = static_cast<char>(bytes[at] ^ (1 << bit));
        step = "bit " + std::to_string(bit) + " flipped at " + std::to_string(at);
        break;
      }
      case 1:
        bytes.insert(at, random_bytes(rng, 1 + rng.below(4)));
        step = "random bytes inserted at " + std::to_string(at);
        break;
      case 2: {
        const auto& pick = kInteresting[rng.below(std::size(kInteresting))];
        bytes.insert(at, pick);
        step =
            "interesting bytes " + json_text(Json(base64_encode(pick))) + " (base64) inserted at " + std::to_string(at);
        break;
      }
      case 3: {
        const std::size_t n = 1 + rng.below(std::min<std::size_t>(size - at, 16));
        bytes.erase(at, n);
        step = std::to_string(n) + " bytes deleted at " + std::to_string(at);
        break;
      }
      case 4: {
        const std::size_t n = 1 + rng.below(std::min<std::size_t>(size - at, 64));
        const std::string chunk = bytes.substr(at, n);
        const auto copies = 1 + rng.below(rng.chance(0.1) ? 1000 : 4);
        std::string repeated;
        for (std::uint64_t i = 0; i < copies && repeated.size() + bytes.size() < kMaxHugeBytes; ++i) repeated += chunk;
        bytes.insert(at, repeated);
        step = std::to_string(n) + " bytes at " + std::to_string(at) + " repeated " + std::to_string(copies) + " times";
        break;
      }
      case 5:
        bytes.resize(at);
        step = "truncated at " + std::to_string(at);
        break;
      default: {
        const std::size_t other = rng.below(size);
        std::swap(bytes[at], bytes[other]);
        step = "bytes " + std::to_string(at) + " and " + std::to_string(other) + " swapped";
      }
    }
    if (bytes.size() > kMaxHugeBytes) bytes.resize(kMaxHugeBytes);
    done += (done.empty() ? "" : ", ") + step;
  }
  if (what) *what = done;
  return bytes;
}

RequestCase mutate(const RequestCase& base, Rng& rng, const MutationContext& context) {
  RequestCase r = base;
  r.expect_valid = false;
  if (r.raw) {
    // Keep the request line, so that the bytes still reach the route; damage the rest.
    const std::size_t line = r.raw->find('\n');
    const std::size_t keep = line == std::string::npos ? 0 : line + 1;
    std::string what;
    r.raw = r.raw->substr(0, keep) + damage_bytes(r.raw->substr(keep), rng, &what);
    r.mutation = (base.mutation.empty() ? "" : base.mutation + "; ") + "raw: " + what;
    return r;
  }
  r.raw_body.reset();
  const bool body_first = r.body && rng.chance(0.6);
  const bool done = body_first ? (mutate_body(r, rng, context) || mutate_parameter(r, rng, context))
                               : (mutate_parameter(r, rng, context) || mutate_body(r, rng, context));
  if (!done) return mutate_bytes(base, rng);
  return r;
}

RequestCase mutate_bytes(const RequestCase& base, Rng& rng) {
  RequestCase r = base;
  r.expect_valid = false;
  if (r.raw) return mutate(base, rng);
  std::string body;
  if (r.raw_body) {
    body = *r.raw_body;
  } else if (r.body) {
    RequestCase only_body;
    only_body.method = "POST";
    only_body.body = r.body;
    only_body.body_content_type = r.body_content_type;
    const std::string rendered = render(only_body, any_base());
    body = rendered.substr(rendered.find("\r\n\r\n") + 4);
    if (r.body_content_type.empty()) r.body_content_type = "application/json";
    // multipart: the boundary render chose must stay in the Content-Type
    const std::size_t type_at = rendered.find("Content-Type: ");
    if (type_at != std::string::npos)
      r.body_content_type = rendered.substr(type_at + 14, rendered.find("\r\n", type_at) - type_at - 14);
  } else {
    body = "{}";
    r.body_content_type = "application/json";
  }
  std::string what;
  r.raw_body = damage_bytes(std::move(body), rng, &what);
  r.mutation = (base.mutation.empty() ? "" : base.mutation + "; ") + "body bytes: " + what;
  return r;
}

}  // namespace chaosplus::fuzz
