#pragma once
// Reading a normalized JSON Schema the way the value generators need it: allOf merged into one
// schema, one branch of oneOf/anyOf chosen, numeric and length bounds, and whether a string fits
// a string schema. Private to the fuzz module.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/request_case.h"
#include "fuzz/rng.h"

namespace chaosplus::fuzz::schema_view {

// `schema` with its allOf folded in (properties and required united, bounds tightened, types and
// enums intersected). A boolean schema `true` becomes {}; `false` stays false.
Json merged(const Json& schema);
// merged(), then one oneOf/anyOf branch (chosen by `rng`) folded in, repeatedly.
Json resolve(const Json& schema, Rng& rng);
// The branches of a oneOf/anyOf, or empty.
const Json* branches(const Json& schema);

bool is_cycle(const Json& schema);  // a recursion cut by the loader
bool allows(const std::vector<std::string>& types, std::string_view type);

struct Bounds {
  std::optional<double> min, max;  // inclusive bounds, exclusive ones kept apart
  bool min_exclusive = false, max_exclusive = false;
  std::optional<double> multiple_of;
};
Bounds number_bounds(const Json& schema);

std::optional<std::size_t> size_keyword(const Json& schema, const char* name);  // minLength, maxItems...
std::size_t code_points(std::string_view text);                                 // as JSON Schema counts string length

// Whether `pattern` (ECMAScript, unanchored, as valijson runs it) finds a match in `text`; true when
// the pattern does not compile here (then nothing can be said), false for texts over 2 KiB (not run:
// std::regex recursion).
bool pattern_matches(const std::string& pattern, const std::string& text);
// Whether `text` satisfies the string keywords of `schema`: length, pattern, enum and const (format
// is not judged here; formats.h does).
bool string_fits(const Json& schema, const std::string& text);
bool enum_contains(const Json& schema, const Json& value);

}  // namespace chaosplus::fuzz::schema_view
