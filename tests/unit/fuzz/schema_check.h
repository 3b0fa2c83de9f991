#pragma once
// valijson, as the response checker uses it, to prove what the generators make.
#include <nlohmann/json.hpp>
#include <string>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace chaosplus::fuzz::testing {

// valijson (1.0, built without exceptions) aborts the process when a "format" keyword meets a value
// that is not a string, which the negative values do on purpose: formats are taken out before
// it sees the schema, and checked with formats::fits by the tests instead.
inline nlohmann::json without_formats(const nlohmann::json& schema) {
  if (schema.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : schema) out.push_back(without_formats(item));
    return out;
  }
  if (!schema.is_object()) return schema;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, item] : schema.items())
    if (key != "format") out[key] = without_formats(item);
  return out;
}

inline bool validates(const nlohmann::json& schema_with_formats, const nlohmann::json& value,
                      std::string* why = nullptr) {
  const nlohmann::json schema = without_formats(schema_with_formats);
  valijson::Schema compiled;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema);
  parser.populateSchema(schema_adapter, compiled);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(value);
  const bool ok = validator.validate(compiled, target, why ? &results : nullptr);
  if (!ok && why) {
    valijson::ValidationResults::Error error;
    while (results.popError(error)) {
      std::string where;
      for (const auto& part : error.context) where += part;
      *why += where + ": " + error.description + "; ";
    }
  }
  return ok;
}

}  // namespace chaosplus::fuzz::testing
