#include "openapi/refs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace chaosplus::openapi {
namespace {

namespace fs = std::filesystem;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// "a~1b" -> "a/b", "a~0b" -> "a~b".
std::string unescape_segment(std::string_view segment) {
  std::string out;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '~' && i + 1 < segment.size() && (segment[i + 1] == '0' || segment[i + 1] == '1')) {
      out += segment[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += segment[i];
    }
  }
  return out;
}

// Keywords whose value is one schema, a list of schemas, or a map of names to schemas. Everything
// else (enum, const, example, default, discriminator, x-...) is a value and copied as written, so a
// "$ref" key inside an example is not mistaken for a reference.
const std::set<std::string, std::less<>> kOneSchema = {
    "not",           "additionalProperties",  "additionalItems",  "items",        "contains", "if", "then", "else",
    "propertyNames", "unevaluatedProperties", "unevaluatedItems", "contentSchema"};
const std::set<std::string, std::less<>> kSchemaList = {"allOf", "anyOf", "oneOf", "prefixItems"};
const std::set<std::string, std::less<>> kSchemaMap = {"properties", "patternProperties", "dependentSchemas", "$defs",
                                                       "definitions"};

void add_null_type(Json& schema) {
  auto type = schema.find("type");
  if (type == schema.end()) {
    // No type of its own, but its branches have: `{allOf: [{$ref: Pet}], nullable: true}`, the usual
    // 3.0 way of saying "a Pet or null".
    if (schema.contains("allOf") || schema.contains("anyOf") || schema.contains("oneOf")) {
      Json alternatives = Json::array({std::move(schema), Json{{"type", "null"}}});
      schema = Json::object();
      for (const char* annotation : {"example", "examples", "default", "description"}) {
        if (auto found = alternatives[0].find(annotation); found != alternatives[0].end()) schema[annotation] = *found;
      }
      schema["anyOf"] = std::move(alternatives);
    }
    return;  // otherwise null is already allowed
  }
  if (type->is_string()) {
    if (*type != "null") *type = Json::array({*type, "null"});
  } else if (type->is_array()) {
    if (std::find(type->begin(), type->end(), Json("null")) == type->end()) type->push_back("null");
  }
  if (auto values = schema.find("enum"); values != schema.end() && values->is_array()) {
    if (std::find(values->begin(), values->end(), Json(nullptr)) == values->end()) values->push_back(nullptr);
  }
}

// 3.0: {minimum: 5, exclusiveMinimum: true} -> {exclusiveMinimum: 5}; false is just dropped.
void exclusive_bound(Json& schema, const char* exclusive, const char* bound) {
  auto flag = schema.find(exclusive);
  if (flag == schema.end() || !flag->is_boolean()) return;
  const bool on = flag->get<bool>();
  schema.erase(exclusive);
  auto value = schema.find(bound);
  if (on && value != schema.end() && value->is_number()) {
    Json number = *value;
    schema.erase(bound);
    schema[exclusive] = std::move(number);
  }
}

}  // namespace

std::string describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded: return "nothing";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "a list";
    case Json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      constexpr std::size_t kShown = 40;
      if (text.size() <= kShown) return "text '" + text + "'";
      // Cut between characters: a message with half a UTF-8 character could not be written as JSON.
      std::size_t cut = kShown;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
      return "text '" + text.substr(0, cut) + "...'";
    }
    case Json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    default: return "the number " + value.dump();
  }
}

void normalize_schema(Json& schema) {
  if (!schema.is_object()) return;
  if (auto nullable = schema.find("nullable"); nullable != schema.end()) {
    const bool on = nullable->is_boolean() && nullable->get<bool>();
    schema.erase(nullable);
    if (on) add_null_type(schema);
  }
  exclusive_bound(schema, "exclusiveMinimum", "minimum");
  exclusive_bound(schema, "exclusiveMaximum", "maximum");
}

Node Node::at(const std::string& key) const {
  Node child{file, pointer + "/" + pointer_segment(key), nullptr};
  if (value != nullptr && value->is_object()) {
    if (auto found = value->find(key); found != value->end()) child.value = &*found;
  }
  return child;
}

Node Node::at(std::size_t index) const {
  Node child{file, pointer + "/" + std::to_string(index), nullptr};
  if (value != nullptr && value->is_array() && index < value->size()) child.value = &(*value)[index];
  return child;
}

Workspace::Workspace(SourceFile root) {
  const std::string key = fs::path(root.path).lexically_normal().string();
  auto owned = std::make_unique<SourceFile>(std::move(root));
  root_ = owned.get();
  files_.emplace(key, std::move(owned));
}

Node Workspace::root() const { return {root_, "", &root_->root}; }

void Workspace::error(const SourceFile& file, const std::string& pointer, const std::string& message) {
  std::string text = where(file.path, file.mark_of(pointer)) + (pointer.empty() ? "/" : pointer) + ": " + message;
  if (std::find(errors_.begin(), errors_.end(), text) == errors_.end()) errors_.push_back(std::move(text));
}

void Workspace::error(const Node& at, const std::string& message) { error(*at.file, at.pointer, message); }

Location Workspace::location(const Node& node) const {
  const Mark mark = node.file->mark_of(node.pointer);
  return {node.file->path, node.pointer, mark.line, mark.column};
}

const SourceFile* Workspace::file(const Node& at, const std::string& relative) {
  const fs::path base = fs::path(at.file->path).parent_path();
  const std::string key = (base / relative).lexically_normal().string();
  if (auto found = files_.find(key); found != files_.end()) return found->second.get();
  const Node ref_at{at.file, at.pointer + "/$ref", nullptr};
  if (auto told = unreadable_.find(key); told != unreadable_.end()) {
    error(ref_at, told->second);
    return nullptr;
  }
  auto refuse = [&](std::string why) -> const SourceFile* {
    unreadable_.emplace(key, why);
    error(ref_at, why);
    return nullptr;
  };
  if (files_.size() >= kMaxFiles) {
    return refuse("the document references more than " + std::to_string(kMaxFiles) +
                  " files, expected fewer (a reference loop through generated names?)");
  }
  std::error_code ec;
  if (fs::is_directory(key, ec)) return refuse("cannot read '" + key + "': it is a directory, expected a file");
  std::ifstream in(key, std::ios::binary);
  if (!in) return refuse("cannot read '" + key + "' (" + std::strerror(errno) + "), expected a readable file");
  std::string text;
  text.reserve(4096);
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) {
      return refuse("'" + key + "' is larger than " + std::to_string(kMaxFileBytes) +
                    " bytes, expected a smaller file");
    }
  }
  auto parsed = parse_source(text, key);
  if (!parsed.ok()) {
    // The referenced file's own error, with its place, is the useful part; say who referenced it.
    unreadable_.emplace(key, "the referenced file cannot be used");
    errors_.push_back(parsed.error());
    error(ref_at, "the referenced file '" + key + "' cannot be used (see above)");
    return nullptr;
  }
  auto owned = std::make_unique<SourceFile>(std::move(parsed).value());
  const SourceFile* out = owned.get();
  files_.emplace(key, std::move(owned));
  return out;
}

std::optional<Node> Workspace::resolve(const Node& at, const std::string& ref) {
  const Node ref_at{at.file, at.pointer + "/$ref", nullptr};
  if (ref.find("://") != std::string::npos || ref.starts_with("//")) {
    error(ref_at, "'" + ref + "' is a remote reference, expected a local one ('#/...') or a relative file");
    return std::nullopt;
  }
  const std::size_t hash = ref.find('#');
  const std::string file_part = percent_decode(ref.substr(0, hash));
  const std::string fragment = hash == std::string::npos ? "" : percent_decode(ref.substr(hash + 1));
  const SourceFile* target = file_part.empty() ? at.file : file(at, file_part);
  if (target == nullptr) return std::nullopt;
  if (!fragment.empty() && fragment.front() != '/') {
    error(ref_at, "'" + ref + "' has the fragment '" + fragment +
                      "', expected a JSON pointer such as '#/components/schemas/Pet'");
    return std::nullopt;
  }
  Node node{target, "", &target->root};
  std::size_t start = 1;
  while (start <= fragment.size() && !fragment.empty()) {
    std::size_t end = fragment.find('/', start);
    if (end == std::string::npos) end = fragment.size();
    const std::string segment = unescape_segment(std::string_view(fragment).substr(start, end - start));
    Node next = node;
    if (node.value->is_object()) {
      next = node.at(segment);
    } else if (node.value->is_array() && !segment.empty() &&
               std::all_of(segment.begin(), segment.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
               segment.size() < 10) {
      next = node.at(static_cast<std::size_t>(std::stoul(segment)));
    } else {
      next.value = nullptr;
    }
    if (next.value == nullptr) {
      error(ref_at, "'" + ref + "' points nowhere: " + (target == at.file ? "" : "'" + target->path + "' has ") +
                        "no '" + segment + "' in " + (node.pointer.empty() ? "/" : node.pointer) +
                        ", expected an existing part of the document");
      return std::nullopt;
    }
    node = std::move(next);
    start = end + 1;
  }
  return node;
}

std::optional<Node> Workspace::deref(const Node& start) {
  Node node = start;
  std::vector<std::string> seen;
  for (int hop = 0; hop <= kMaxRefHops; ++hop) {
    if (node.value == nullptr || !node.value->is_object()) return node;
    auto ref = node.value->find("$ref");
    if (ref == node.value->end()) return node;
    if (!ref->is_string()) {
      error(node.at("$ref"), "found " + describe(*ref) + ", expected a reference text such as '#/components/...'");
      return std::nullopt;
    }
    const std::string here = node.file->path + "#" + node.pointer;
    if (std::find(seen.begin(), seen.end(), here) != seen.end()) {
      error(start.at("$ref"), "the reference '" + start.value->at("$ref").get<std::string>() +
                                  "' leads back to itself, expected it to end at a value");
      return std::nullopt;
    }
    seen.push_back(here);
    auto next = resolve(node, ref->get<std::string>());
    if (!next) return std::nullopt;
    node = std::move(*next);
  }
  error(start.at("$ref"),
        "more than " + std::to_string(kMaxRefHops) + " references in a row, expected a shorter chain");
  return std::nullopt;
}

Json Workspace::schema(const Node& node) {
  std::vector<std::string> chain;
  expansions_left_ = kMaxExpansionsPerSchema;
  return inline_schema(node, 0, chain);
}

Json Workspace::too_large(const Node& node) {
  if (!too_large_told_) {
    too_large_told_ = true;
    error(node, "the schemas expand to more than " + std::to_string(kMaxInlinedValues) +
                    " values once references are inlined, expected a smaller document");
  }
  return Json::object();
}

Json Workspace::inline_schema(const Node& node, int depth, std::vector<std::string>& chain) {
  if (node.value == nullptr) return Json::object();
  if (++inlined_ > kMaxInlinedValues) return too_large(node);
  if (depth > kMaxSchemaDepth) {
    error(node, "the schema nests more than " + std::to_string(kMaxSchemaDepth) +
                    " levels deep once references are inlined, expected a flatter schema");
    return Json::object();
  }
  const Json& value = *node.value;
  if (value.is_boolean()) return value;  // 3.1: true / false schemas
  if (!value.is_object()) {
    error(node, "found " + describe(value) + ", expected a schema (an object)");
    return Json::object();
  }
  auto ref = value.find("$ref");
  if (ref == value.end()) return inline_children(node, depth, chain);

  if (!ref->is_string()) {
    error(node.at("$ref"),
          "found " + describe(*ref) + ", expected a reference text such as '#/components/schemas/Pet'");
    return Json::object();
  }
  auto target = resolve(node, ref->get<std::string>());
  if (!target) return Json::object();
  const std::string key = target->file->path + "#" + target->pointer;
  // A long chain of references, or one schema expanding very many, is a web of schemas that refer
  // to each other (each expansion multiplies the size); it is cut as a cycle is.
  if (std::count(chain.begin(), chain.end(), key) >= kCycleRepeats || chain.size() >= kMaxRefChain ||
      expansions_left_ == 0) {
    ++cuts_;
    return Json{{"x-chaosplus-cycle", true}};
  }
  --expansions_left_;
  Json resolved;
  auto memo = expanded_.find(key);
  if (memo != expanded_.end() && depth <= memo->second.depth && chain.size() <= memo->second.chain) {
    // The same expansion as before; its weight counts again, so repeated use cannot grow unbounded.
    inlined_ += memo->second.weight;
    if (inlined_ > kMaxInlinedValues) return too_large(node);
    resolved = memo->second.schema;
  } else {
    const std::size_t cuts_before = cuts_;
    const std::size_t errors_before = errors_.size();
    const std::size_t weight_before = inlined_;
    chain.push_back(key);
    resolved = inline_schema(*target, depth + 1, chain);
    chain.pop_back();
    // An expansion that met no cycle (nor the chain's bound) is the same wherever it is used with
    // as much room left: what it reaches does not lead back to any reference above it.
    if (cuts_ == cuts_before && errors_.size() == errors_before) {
      expanded_[key] = {resolved, inlined_ - weight_before, depth, chain.size()};
    }
  }

  // Keywords beside "$ref" (allowed from 3.1 on) constrain the value too; annotations do not.
  Json siblings = Json::object();
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (it.key() != "$ref" && it.key() != "description" && it.key() != "summary" && it.key() != "title") {
      siblings[it.key()] = it.value();
    }
  }
  if (siblings.empty()) return resolved;
  // The siblings are read in place: their own references resolve from where they are written.
  Json rest = inline_children(node, depth + 1, chain);
  rest.erase("$ref");
  for (const char* annotation : {"description", "summary", "title"}) rest.erase(annotation);
  return Json{{"allOf", Json::array({std::move(resolved), std::move(rest)})}};
}

Json Workspace::inline_children(const Node& node, int depth, std::vector<std::string>& chain) {
  Json out = Json::object();
  for (auto it = node.value->begin(); it != node.value->end(); ++it) {
    const std::string& key = it.key();
    const Node child = node.at(key);
    if (kOneSchema.contains(key) && (it->is_object() || it->is_boolean())) {
      out[key] = inline_schema(child, depth + 1, chain);
    } else if ((kSchemaList.contains(key) || key == "items") && it->is_array()) {
      Json list = Json::array();
      for (std::size_t i = 0; i < it->size(); ++i) list.push_back(inline_schema(child.at(i), depth + 1, chain));
      out[key] = std::move(list);
    } else if (kSchemaMap.contains(key) && it->is_object()) {
      Json map = Json::object();
      for (auto entry = it->begin(); entry != it->end(); ++entry) {
        map[entry.key()] = inline_schema(child.at(entry.key()), depth + 1, chain);
      }
      out[key] = std::move(map);
    } else if (kOneSchema.contains(key) || kSchemaList.contains(key) || kSchemaMap.contains(key)) {
      const char* expected = kSchemaList.contains(key)  ? "a list of schemas"
                             : kSchemaMap.contains(key) ? "a map of names to schemas"
                                                        : "a schema (an object)";
      error(child, "found " + describe(*it) + ", expected " + expected);
    } else {
      inlined_ += it->is_structured() ? it->size() : 0;
      out[key] = *it;
    }
  }
  normalize_schema(out);
  return out;
}

}  // namespace chaosplus::openapi
