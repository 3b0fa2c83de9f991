#pragma once
// The experiment JSON Schema and a check of a document against it with valijson. The schema is the
// hand-kept base (src/spec/schema.base.json, embedded at build time: targets, probes, load, ...)
// with the fault definitions generated from the fault catalog (spec/fault_catalog.h), so every
// registered fault type and parameter is in it; schema/experiment.schema.json is the checked-in
// output of `chaosplus schema`, and a test keeps them equal. Each problem is mapped back to the line and column of the
// offending value (or key, for unknown keys) through the document's JSON pointers.
#include <string>
#include <string_view>
#include <vector>

#include "spec/experiment.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec {

// The hand-kept base: the whole schema but definitions.fault.
std::string_view experiment_schema_base_text();
// The whole schema, generated on first use (after the fault types are registered), deterministic:
// byte for byte what schema/experiment.schema.json holds.
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
