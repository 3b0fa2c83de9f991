#pragma once
// The string formats a response body is checked for (date, time, date-time, RFC 3339), outside
// valijson: its format check builds a std::regex on every value, which made a check of a body
// with ten dates take milliseconds. Followed where the schema leads plainly (properties,
// additionalProperties, items, allOf); inside anyOf / oneOf no branch is known to apply.
#include <optional>
#include <string>

#include "openapi/document.h"

namespace chaosplus::openapi {

bool is_date(std::string_view text);       // 2024-02-29
bool is_time(std::string_view text);       // 16:52:45Z, 16:52:45.5+02:00
bool is_date_time(std::string_view text);  // 2024-02-29T16:52:45Z

// The first value of `body` whose schema names a checked format it does not have:
// "/born: expected a date (format date), found text 'x'".
std::optional<std::string> check_formats(const Json& schema, const Json& body);

}  // namespace chaosplus::openapi
