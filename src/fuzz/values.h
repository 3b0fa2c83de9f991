#pragma once
// Values from a JSON Schema (as openapi/document.h hands them out: references inlined, OpenAPI 3.0
// turned into JSON Schema, a {"x-chaosplus-cycle": true} node where recursion was cut): conforming
// values that go deep (types, formats, enums, patterns, bounds, nested objects and arrays, the
// document's examples), and values at or past the edges, each saying what is wrong with it.
//
// Every draw comes from the Rng it is given, and nothing depends on addresses, hash order or time:
// the same schema and the same Rng state give the same value.
#include <cstddef>
#include <string>
#include <vector>

#include "fuzz/request_case.h"
#include "fuzz/rng.h"

namespace chaosplus::fuzz {

// Bounds that keep generated values small and fast to send. A schema that demands more (minLength
// 100000) gets what it demands, up to kMaxValueBytes.
struct ValueLimits {
  int max_depth = 6;            // nesting of objects and arrays below the value
  std::size_t max_items = 6;    // array items when the schema allows more
  std::size_t max_length = 24;  // string length when the schema allows more
  double optional_share = 0.5;  // chance that an optional property is present
};
inline constexpr std::size_t kMaxValueBytes = 60 * 1024;  // one generated body stays under ~64 KiB
inline constexpr std::size_t kMaxHugeBytes = 1 << 20;     // a deliberately huge value: at most 1 MiB

// A value that validates against `schema`. Examples, `default` and `const` are used some of the
// time; `examples` given by the caller (a parameter's or media type's) count as the schema's own.
Json valid_value(const Json& schema, Rng& rng, const ValueLimits& limits = {});
Json valid_value(const Json& schema, Rng& rng, const std::vector<Json>& examples, const ValueLimits& limits = {});

// A value at or past an edge of `schema`, with what makes it so. Most do not validate (`conforms`
// false: wrong type, min-1, max+1, too long, empty, format violations, enum outsiders, missing
// required or extra properties, null where not nullable, deep nesting, huge arrays); some are
// hostile but valid (`conforms` true: a naughty string in a free-form string field, exactly the
// maximum, unicode oddities where any string goes). Nested defects name their place:
//   "items/0/price: -0.01 below minimum 0", "customer: required property 'email' missing".
struct EdgeValue {
  Json value;
  std::string what;
  bool conforms = false;
};
EdgeValue edge_value(const Json& schema, Rng& rng, const ValueLimits& limits = {});

// Strings that break naive code (quotes and SQL, template and format strings, traversal, markup,
// shell, unicode oddities, long runs), each with a short label for `mutation`.
struct InterestingString {
  std::string text;
  std::string label;  // "sql quote", "template {{7*7}}", "RTL override"...
};
const std::vector<InterestingString>& interesting_strings();

// The JSON Schema types `schema` allows, in a fixed order ("null", "boolean", "integer", "number",
// "string", "array", "object"); all of them when it says nothing.
std::vector<std::string> schema_types(const Json& schema);

}  // namespace chaosplus::fuzz
