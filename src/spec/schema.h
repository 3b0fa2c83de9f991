#pragma once
// The experiment JSON Schema (schema/experiment.schema.json, embedded at build time) and a check of a
// document against it with valijson. Each problem is mapped back to the line and column of the
// offending value (or key, for unknown keys) through the document's JSON pointers.
#include <string>
#include <string_view>
#include <vector>

#include "spec/experiment.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec {

// The schema text, byte for byte as in schema/experiment.schema.json.
std::string_view experiment_schema_text();

struct SchemaIssue {
  std::string pointer;  // JSON pointer of the offending value ("" = the root)
  Mark mark;
  std::string message;
};

// Problems of `root` against the schema, the most specific ones only (a failing list item is
// reported, not also the list that holds it). Empty when the document conforms.
std::vector<SchemaIssue> check_against_schema(const YamlNode& root);

}  // namespace chaosplus::spec
