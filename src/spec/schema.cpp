#include "spec/schema.h"

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "spec/fault_catalog.h"

namespace chaosplus::spec {
namespace {

nlohmann::json to_json(const YamlNode& node) {
  switch (node.kind) {
    case YamlNode::Kind::null: return nullptr;
    case YamlNode::Kind::string: return node.text;
    case YamlNode::Kind::boolean: return node.text == "true" || node.text == "True" || node.text == "TRUE";
    case YamlNode::Kind::integer: return std::strtoll(node.text.c_str(), nullptr, 10);
    case YamlNode::Kind::number: return std::strtod(node.text.c_str(), nullptr);
    case YamlNode::Kind::sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& item : node.items) array.push_back(to_json(item));
      return array;
    }
    case YamlNode::Kind::map: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& entry : node.entries) object[entry.key] = to_json(entry.value);
      return object;
    }
  }
  return nullptr;
}

// The schema of one parameter value, by kind: the written forms the loader's normalize_fault_param
// reads (the loader checks the value itself; the schema gives editors the shape and the help).
nlohmann::ordered_json value_schema(const FaultParam& param) {
  auto ref = [](const char* name) { return nlohmann::ordered_json{{"$ref", std::string("#/definitions/") + name}}; };
  switch (param.kind) {
    case ParamKind::duration: return ref("duration");
    case ParamKind::signal: return ref("signal");
    case ParamKind::choice: {
      nlohmann::ordered_json choices = nlohmann::ordered_json::array();
      for (auto choice : param.choices) choices.push_back(std::string(choice));
      return {{"enum", choices}};
    }
    case ParamKind::byte_rate: return ref("byteRate");
    case ParamKind::status:
    case ParamKind::byte_size: return {{"type", {"integer", "string"}}};
    case ParamKind::share: return {{"type", "string"}, {"pattern", "^\\s*[0-9]+(\\.[0-9]+)?\\s*%\\s*$"}};
    case ParamKind::text: return ref("scalarText");
    case ParamKind::port: return ref("port");
    case ParamKind::ip_address: return ref("ipAddress");
    case ParamKind::ip_network: return ref("ipNetwork");
    case ParamKind::namespace_name: return ref("namespaceName");
    case ParamKind::interface_name: return ref("interfaceName");
    case ParamKind::boolean: return {{"type", "boolean"}};
  }
  return nlohmann::ordered_json::object();
}

nlohmann::ordered_json fault_type_schema(const FaultType& type) {
  if (!type.schema.empty()) return nlohmann::ordered_json::parse(type.schema);
  nlohmann::ordered_json properties = nlohmann::ordered_json::object();
  properties["target"] = {{"$ref", "#/definitions/identifier"}, {"description", "the name of the target it acts on"}};
  properties["at"] = {{"$ref", "#/definitions/duration"},
                      {"description", "when it starts, from the start of its phase"}};
  properties["for"] = {{"$ref", "#/definitions/duration"},
                       {"description", "how long it stays on; default until the end of its phase"}};
  nlohmann::ordered_json required = nlohmann::ordered_json::array({"target"});
  for (const auto& param : type.params) {
    nlohmann::ordered_json value = value_schema(param);
    value["description"] = std::string(param.help);
    if (!param.default_value.empty()) value["default"] = std::string(param.default_value);
    properties[std::string(param.name)] = std::move(value);
    if (param.required) required.push_back(std::string(param.name));
  }
  nlohmann::ordered_json out{{"description", std::string(type.help)}, {"type", "object"}};
  // A family whose parameters an extension describes at load time checks them itself (FaultType::check).
  out["additionalProperties"] =
      type.open_params ? nlohmann::ordered_json{{"$ref", "#/definitions/scalarText"}} : nlohmann::ordered_json(false);
  out["required"] = std::move(required);
  out["properties"] = std::move(properties);
  return out;
}

nlohmann::ordered_json fault_schema() {
  nlohmann::ordered_json types = nlohmann::ordered_json::object();
  for (const auto& type : fault_catalog()) types[std::string(type.name)] = fault_type_schema(type);
  return {{"description",
           "One fault, written as a one-key map: the fault type, with its settings under it. Generated from the "
           "fault registry (faults/registry.h) by chaosplus schema."},
          {"type", "object"},
          {"minProperties", 1},
          {"maxProperties", 1},
          {"additionalProperties", false},
          {"properties", std::move(types)}};
}

const valijson::Schema& compiled_schema() {
  // Parsed once; a schema that does not parse is a build defect and throws from here.
  static const std::unique_ptr<valijson::Schema> schema = [] {
    auto parsed = std::make_unique<valijson::Schema>();
    const nlohmann::json document = nlohmann::json::parse(experiment_schema_text());
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(document);
    parser.populateSchema(adapter, *parsed);
    return parsed;
  }();
  return *schema;
}

struct Translated {
  SchemaIssue issue;
  bool container = false;  // valijson's "a property failed" wrapper around a deeper problem
};

struct Located {
  const YamlNode* node;
  bool complete;  // every context segment was found
};

// valijson names a position as {"<root>", "[phases]", "[0]", "[name]"}.
Located locate(const YamlNode& root, const std::vector<std::string>& context) {
  const YamlNode* node = &root;
  for (std::size_t i = 1; i < context.size(); ++i) {
    const std::string& raw = context[i];
    if (raw.size() < 2 || raw.front() != '[' || raw.back() != ']') return {node, false};
    const std::string segment = raw.substr(1, raw.size() - 2);
    if (node->kind == YamlNode::Kind::sequence) {
      char* end = nullptr;
      const unsigned long index = std::strtoul(segment.c_str(), &end, 10);
      if (segment.empty() || *end != '\0' || index >= node->items.size()) return {node, false};
      node = &node->items[index];
    } else if (node->kind == YamlNode::Kind::map) {
      const YamlEntry* entry = node->find(segment);
      if (entry == nullptr) return {node, false};
      node = &entry->value;
    } else {
      return {node, false};
    }
  }
  return {node, true};
}

// Text between the last pair of single quotes: valijson quotes the property it talks about.
std::string quoted_name(const std::string& description) {
  const std::size_t close = description.rfind('\'');
  if (close == std::string::npos || close == 0) return {};
  const std::size_t open = description.rfind('\'', close - 1);
  if (open == std::string::npos) return {};
  return description.substr(open + 1, close - open - 1);
}

Translated translate(const YamlNode& root, const valijson::ValidationResults::Error& error) {
  const Located at = locate(root, error.context);
  Translated out{{at.node->pointer, at.node->mark, ""}};
  SchemaIssue& issue = out.issue;
  const std::string& text = error.description;
  if (text.starts_with("Object contains a property that could not be validated")) {
    const std::string key = quoted_name(text);
    if (const YamlEntry* entry = at.node->find(key)) {
      issue.pointer = entry->value.pointer;
      issue.mark = entry->key_mark;
    }
    issue.message = "unknown key '" + key + "' (the schema does not allow it here)";
  } else if (text.starts_with("Failed to validate against schema associated with property name")) {
    // Wraps the property's own problem; alone, it means the names inside it (propertyNames) are
    // wrong, which valijson does not detail.
    const std::string key = quoted_name(text);
    if (const YamlEntry* entry = at.node->find(key)) {
      issue.pointer = entry->value.pointer;
      issue.mark = entry->value.mark;
    }
    issue.message = "'" + key + "' does not match the schema: a name in it has characters that are not allowed";
    out.container = true;
  } else if (text.starts_with("Missing required property")) {
    issue.message = "missing required key '" + quoted_name(text) + "'";
  } else {
    issue.message = "found " + describe_found(*at.node) + ", which does not match the schema: " + text;
  }
  return out;
}

bool is_under(const std::string& pointer, const std::string& ancestor) {
  return pointer.size() > ancestor.size() && pointer.starts_with(ancestor) && pointer[ancestor.size()] == '/';
}

}  // namespace

std::string_view experiment_schema_text() {
  static const std::string text = [] {
    auto document = nlohmann::ordered_json::parse(experiment_schema_base_text());
    document["definitions"]["fault"] = fault_schema();
    return document.dump(2) + "\n";
  }();
  return text;
}

std::vector<SchemaIssue> check_against_schema(const YamlNode& root) {
  const nlohmann::json document = to_json(root);
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::adapters::NlohmannJsonAdapter target(document);
  valijson::ValidationResults results;
  if (validator.validate(compiled_schema(), target, &results)) return {};

  std::vector<Translated> all;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) all.push_back(translate(root, error));

  // Keep the most specific issues: drop one whose position holds another issue, and repeats.
  std::vector<SchemaIssue> kept;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const SchemaIssue& issue = all[i].issue;
    bool has_deeper = false;
    for (std::size_t j = 0; j < all.size(); ++j) {
      const std::string& other = all[j].issue.pointer;
      has_deeper = has_deeper || is_under(other, issue.pointer) ||
                   (all[i].container && j != i && !all[j].container && other == issue.pointer);
    }
    if (has_deeper) continue;
    bool repeated = false;
    for (const auto& seen : kept)
      repeated = repeated || (seen.pointer == issue.pointer && seen.message == issue.message);
    if (!repeated) kept.push_back(issue);
  }
  return kept;
}

}  // namespace chaosplus::spec
