#pragma once
// Replaying a finding whose request uses a value an earlier answer gave (the id a create made):
// where a Binding (finding.h) reads the new value from a setup reply, and how it replaces the
// recorded one in the requests that follow. Used by `chaosplus replay` and the engine's tests.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/exchange.h"
#include "fuzz/finding.h"

namespace chaosplus::fuzz {

// Path pieces shared by the harvester (values from answers) and replay (values from set-up answers).
std::vector<std::string_view> segments(std::string_view path);  // "/a//b/" -> {"a", "b"}
bool is_param_segment(std::string_view segment);                // "{id}"
// The path of a Location value: "http://h:1/api/orders/4?x" -> "/api/orders/4".
std::string_view location_path(std::string_view location);

// Ok when `binding` reads from one of the `setup_count` setup requests with a source it knows
// ("header:Location" with a path template holding {param}, or "body:<JSON pointer>") and has a
// placeholder; otherwise what is wrong.
Status check_binding(const Binding& binding, std::size_t setup_count);

// The value `binding` reads from `reply`, the answer to its setup request, as path text (one
// percent-encoded segment); or why not ("gave no Location", "the body has no /id").
Result<std::string> read_binding(const Binding& binding, const Reply& reply);

// Replaces every segment of the path in the request line of `bytes` that equals `placeholder` by
// `value`; the rest of the bytes are left as they are. How many segments it replaced.
std::size_t substitute_path(std::string& bytes, std::string_view placeholder, std::string_view value);

// After setup request `index` answered `reply`: reads the value of every binding on it and puts it
// in place of its placeholder in the setup requests after it and in `request`. An error names the
// first value that could not be read ("setup request 1 gave no Location").
Status apply_bindings(const std::vector<Binding>& bindings, std::size_t index, const Reply& reply,
                      std::vector<std::string>& setup, std::string& request);

}  // namespace chaosplus::fuzz
