#pragma once
// Pure judgement of a probe's measured result against spec::Expectation, apart from the I/O so it
// can be tested without sockets or processes. Each returns the first failure in words, or "".
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/units.h"
#include "spec/experiment.h"

namespace chaosplus::probes {

// Status in expect.status (any 2xx if empty), body_contains, body_regex, latency.
std::string judge_http(const spec::Expectation& expect, int status, std::string_view body, Duration latency);

// exit_code (0 if unset), output_contains, output_regex, latency.
std::string judge_command(const spec::Expectation& expect, int exit_code, std::string_view output, Duration latency);

// An SQL result: rows (the count), value (first column of the first row; nullopt = NULL or no row),
// output_contains, output_regex (on `output`, the rows as text), latency.
std::string judge_sql(const spec::Expectation& expect, std::size_t rows, const std::optional<std::string>& first_value,
                      std::string_view output, Duration latency);

// Only latency applies to a TCP connect.
std::string judge_tcp(const spec::Expectation& expect, Duration latency);

// "latency 412ms not < 300ms", or "" when `latency` satisfies `limit` (whose value is in seconds).
std::string judge_latency(const Comparison& limit, Duration latency);

// Whether the ECMAScript `pattern` matches anywhere in `text`; compiled once per pattern and shared
// between threads. An invalid pattern is an error naming it.
Result<bool> regex_search(const std::string& pattern, std::string_view text);

}  // namespace chaosplus::probes
