#pragma once
// String formats of JSON Schema and OpenAPI: a conforming value for each, values that violate
// each, and a check of a value (the generators use it to know whether a hostile string still
// conforms; the tests to prove what the generators make). Private to the fuzz module.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/rng.h"

namespace chaosplus::fuzz::formats {

// The string formats known here, in a fixed order.
const std::vector<std::string_view>& string_formats();
bool known(std::string_view format);

// A conforming value; nullopt for a format not known here (the caller makes a plain string).
std::optional<std::string> value(std::string_view format, Rng& rng);

struct Violation {
  std::string text;
  std::string what;  // "day 30 of February", "no '@'"
};
// Strings that break `format` (empty for unknown formats).
std::vector<Violation> violations(std::string_view format);

// Whether `text` is a valid `format`; true for formats not known here.
bool fits(std::string_view format, std::string_view text);

}  // namespace chaosplus::fuzz::formats
