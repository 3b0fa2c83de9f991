#pragma once
// JSON that arrives from outside (API request bodies, answers of a proxy API): parsed with a cap on
// nesting, so no input can exhaust the stack of code that walks the value recursively (nlohmann's
// dump(), our own checks), and described in error messages without echoing it back whole. Private
// to the proxy module (it names nlohmann's json type).
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace chaosplus::proxy {

// Deep enough for every body of the Toxiproxy API (a populate body nests 5 levels).
inline constexpr std::size_t kMaxJsonDepth = 32;

// Parses `text`; refuses nesting deeper than `max_depth` before parsing anything. Errors name the
// field where the parser stopped when there is one ("field 'toxicity': number 1e309 is out of range").
Result<nlohmann::json> parse_json(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// How deeply `text` nests arrays and objects (strings skipped); counting stops past `limit`.
std::size_t json_nesting(std::string_view text, std::size_t limit);

// A short, bounded account of a value for an error message: scalars as written (long strings
// cut), containers by their type and size, never the whole value.
std::string describe(const nlohmann::json& value);

}  // namespace chaosplus::proxy
