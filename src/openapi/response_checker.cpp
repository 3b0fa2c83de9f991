#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "openapi/checkable.h"
#include "openapi/document.h"
#include "openapi/formats.h"
#include "openapi/refs.h"

namespace chaosplus::openapi {
namespace {

// Bodies whose strings are longer than this are checked without `pattern`: libstdc++'s std::regex
// recurses once per character and would exhaust the stack on a long hostile string.
constexpr std::size_t kMaxPatternSubject = 4096;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "Application/JSON; charset=utf-8" -> "application/json".
std::string bare_media_type(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && std::isspace(static_cast<unsigned char>(content_type.front()))) {
    content_type.remove_prefix(1);
  }
  while (!content_type.empty() && std::isspace(static_cast<unsigned char>(content_type.back()))) {
    content_type.remove_suffix(1);
  }
  return lower(content_type);
}

// The server's header as it may appear in a message (findings are written as JSON): printable
// ASCII, at most 100 characters.
std::string printable(std::string_view text) {
  constexpr std::size_t kShown = 100;
  std::string out;
  for (char c : text.substr(0, kShown)) out += c >= 0x20 && c < 0x7F ? c : '?';
  if (text.size() > kShown) out += "...";
  return out;
}

bool is_json_media(const std::string& bare) {
  return bare == "application/json" || bare.ends_with("+json") || bare == "text/json";
}

// How well a documented media range covers the actual type: 3 exact, 2 "type/*", 1 "*/*", 0 not.
int media_match(const std::string& documented, const std::string& actual) {
  const std::string range = bare_media_type(documented);
  if (range == actual) return 3;
  if (range == "*/*" || range == "*") return 1;
  if (range.ends_with("/*") && actual.starts_with(range.substr(0, range.size() - 1))) return 2;
  return 0;
}

bool has_long_string(const Json& root) {
  std::vector<const Json*> stack{&root};
  while (!stack.empty()) {
    const Json* value = stack.back();
    stack.pop_back();
    if (value->is_string() && value->get_ref<const std::string&>().size() > kMaxPatternSubject) return true;
    if (value->is_structured()) {
      for (const auto& child : *value) stack.push_back(&child);
    }
    if (value->is_object()) {
      for (auto it = value->begin(); it != value->end(); ++it) {
        if (it.key().size() > kMaxPatternSubject) return true;
      }
    }
  }
  return false;
}

// valijson names a place as {"<root>", "[items]", "[0]", "[price]"}.
std::vector<std::string> segments(const std::vector<std::string>& context) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i < context.size(); ++i) {
    const std::string& raw = context[i];
    out.push_back(raw.size() >= 2 && raw.front() == '[' && raw.back() == ']' ? raw.substr(1, raw.size() - 2) : raw);
  }
  return out;
}

std::string to_pointer(const std::vector<std::string>& path) {
  if (path.empty()) return "/";
  std::string out;
  for (const auto& segment : path) out += "/" + pointer_segment(segment);
  return out;
}

const Json* value_at(const Json& root, const std::vector<std::string>& path) {
  const Json* node = &root;
  for (const auto& segment : path) {
    if (node->is_object()) {
      auto found = node->find(segment);
      if (found == node->end()) return nullptr;
      node = &*found;
    } else if (node->is_array()) {
      char* end = nullptr;
      const unsigned long index = std::strtoul(segment.c_str(), &end, 10);
      if (segment.empty() || *end != '\0' || index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else {
      return nullptr;
    }
  }
  return node;
}

// Adds `schema` and the branches of its allOf / anyOf / oneOf (they all may apply) to `out`.
void with_branches(const Json& schema, std::vector<const Json*>& out, int depth = 0) {
  constexpr int kMaxBranchDepth = 16;
  if (!schema.is_object() || depth > kMaxBranchDepth) return;
  out.push_back(&schema);
  for (const char* key : {"allOf", "anyOf", "oneOf"}) {
    if (auto list = schema.find(key); list != schema.end() && list->is_array()) {
      for (const auto& branch : *list) with_branches(branch, out, depth + 1);
    }
  }
}

// The types the schema allows at `path`, followed through properties, items,
// additionalProperties and the branches of allOf / anyOf / oneOf; empty when none says.
Json types_at(const Json& root, const std::vector<std::string>& path) {
  std::vector<const Json*> candidates;
  with_branches(root, candidates);
  for (const auto& segment : path) {
    std::vector<const Json*> next;
    for (const Json* schema : candidates) {
      if (auto props = schema->find("properties"); props != schema->end() && props->contains(segment)) {
        with_branches((*props)[segment], next);
      } else if (auto items = schema->find("items"); items != schema->end() && items->is_object()) {
        with_branches(*items, next);
      } else if (auto extra = schema->find("additionalProperties"); extra != schema->end() && extra->is_object()) {
        with_branches(*extra, next);
      }
    }
    candidates = std::move(next);
  }
  Json types = Json::array();
  for (const Json* schema : candidates) {
    auto type = schema->find("type");
    if (type == schema->end()) continue;
    for (const auto& name : type->is_array() ? *type : Json::array({*type})) {
      if (std::find(types.begin(), types.end(), name) == types.end()) types.push_back(name);
    }
  }
  return types;
}

std::string type_names(const Json& type) {
  if (type.is_string()) return type.get<std::string>();
  std::string out;
  for (std::size_t i = 0; i < type.size(); ++i) {
    if (i > 0) out += i + 1 == type.size() ? " or " : ", ";
    out += type[i].is_string() ? type[i].get<std::string>() : type[i].dump();
  }
  return out;
}

std::string explain(const valijson::ValidationResults::Error& error, const Json& body, const Json& schema) {
  const auto path = segments(error.context);
  const Json* found = value_at(body, path);
  const std::string text = error.description;
  std::string what;
  if (text.starts_with("Value type not permitted by 'type' constraint")) {
    const Json types = types_at(schema, path);
    what = types.empty() ? "a type the schema does not allow" : "expected " + type_names(types);
  } else if (text.starts_with("Missing required property")) {
    what = "missing required property" + text.substr(std::string("Missing required property").size());
    if (what.ends_with(".")) what.pop_back();
    return to_pointer(path) + ": " + what;
  } else {
    what = text;
    if (!what.empty()) what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
    if (what.ends_with(".")) what.pop_back();
  }
  return to_pointer(path) + ": " + what + (found != nullptr ? ", found " + describe(*found) : "");
}

}  // namespace

struct ResponseChecker::Cache {
  struct Compiled {
    std::unique_ptr<valijson::Schema> full;
    std::unique_ptr<valijson::Schema> without_patterns;
  };
  // By where the media is: an operation of the checker's document (which outlives the checker)
  // is known by address, without building a key per check; another (a copy) by its id, status and
  // media type.
  std::map<const Media*, Compiled> own;
  std::map<std::string, Compiled> foreign;

  Compiled& compiled(const Document& document, const Operation& operation, const ResponseSpec& response,
                     const Media& media) {
    const auto& operations = document.operations;
    const std::less<const Operation*> before;
    if (!operations.empty() && !before(&operation, &operations.front()) && !before(&operations.back(), &operation)) {
      return own[&media];
    }
    return foreign[operation.id + "\n" + response.status + "\n" + media.content_type];
  }
  // One validator for all checks: it keeps the compiled `pattern` regexes.
  valijson::Validator validator{valijson::Validator::kStrongTypes};

  static std::unique_ptr<valijson::Schema> compile(const Json& schema, bool patterns) {
    const Json checkable = checkable_schema(schema, {patterns});
    auto compiled = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(checkable);
    parser.populateSchema(adapter, *compiled);
    return compiled;
  }
};

ResponseChecker::ResponseChecker(const Document& document) : document_(document), cache_(std::make_unique<Cache>()) {}
ResponseChecker::~ResponseChecker() = default;

std::optional<std::string> ResponseChecker::check(const Operation& operation, int status, std::string_view content_type,
                                                  std::string_view body) {
  const ResponseSpec* response = operation.response_for(status);
  if (response == nullptr) {
    std::string documented;
    for (const auto& spec : operation.responses) documented += (documented.empty() ? "" : ", ") + spec.status;
    return "status " + std::to_string(status) +
           " is not documented (documented: " + (documented.empty() ? "none" : documented) + ")";
  }
  if (response->content.empty()) return std::nullopt;  // nothing documented: any body will do
  if (body.empty() && (status == 204 || status == 304 || operation.method == "HEAD")) return std::nullopt;

  std::string documented;
  for (const auto& media : response->content) documented += (documented.empty() ? "" : ", ") + media.content_type;
  const std::string actual = bare_media_type(content_type);
  const Media* best = nullptr;
  int best_score = 0;
  for (const auto& media : response->content) {
    const int score = media_match(media.content_type, actual);
    if (score > best_score) best = &media, best_score = score;
  }
  if (best == nullptr && body.empty() && actual.empty()) {
    return "an empty body without a content type for " + response->status + " (documented: " + documented + ")";
  }
  if (best == nullptr) {
    return "content type '" + (actual.empty() ? std::string("(none)") : printable(content_type)) +
           "' is not documented for " + response->status + " (documented: " + documented + ")";
  }
  if (!is_json_media(actual)) return std::nullopt;

  Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    return "body of " + response->status + " " + best->content_type + " is not JSON" +
           (body.empty() ? " (it is empty)" : "");
  }
  Cache::Compiled& compiled = cache_->compiled(document_, operation, *response, *best);
  const bool patterns = !has_long_string(parsed);
  auto& slot = patterns ? compiled.full : compiled.without_patterns;
  if (!slot) slot = Cache::compile(best->schema, patterns);

  valijson::adapters::NlohmannJsonAdapter target(parsed);
  valijson::ValidationResults results;
  try {
    if (cache_->validator.validate(*slot, target, &results)) {
      if (auto problem = check_formats(best->schema, parsed)) {
        return "body does not match the schema of " + response->status + " " + best->content_type + ": " + *problem;
      }
      return std::nullopt;
    }
  } catch (const std::exception&) {
    // std::regex may give up on a pattern and a subject (error_complexity): that is no mismatch.
    return std::nullopt;
  }
  // The deepest problem is the telling one; the others wrap it ("failed to validate item #0").
  valijson::ValidationResults::Error error;
  valijson::ValidationResults::Error deepest;
  bool first = true;
  while (results.popError(error)) {
    if (first || error.context.size() > deepest.context.size()) deepest = error;
    first = false;
  }
  return "body does not match the schema of " + response->status + " " + best->content_type + ": " +
         explain(deepest, parsed, best->schema);
}

}  // namespace chaosplus::openapi
