#pragma once
// Strict parsers for the quantities users write in experiment files and on the command line:
// durations ("500ms", "2m", "1m30s"), rates ("200/s"), percentages ("99%", "99.5%"), byte sizes
// ("64KB", "1MiB"), and comparisons ("< 300ms", ">= 99%"). Anything else is an error that says what
// was expected.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace chaosplus {

using Duration = std::chrono::nanoseconds;

// "250us", "500ms", "2s", "1m30s", "1h". A bare number is an error (the unit matters).
Result<Duration> parse_duration(std::string_view text);
// Shortest readable form: "1.5s", "250ms", "2m".
std::string format_duration(Duration d);

// "200/s", "12000/m", "5/h" -> events per second.
Result<double> parse_rate(std::string_view text);

// "99%", "99.5%", "0%" -> fraction in [0, 1].
Result<double> parse_percentage(std::string_view text);

// "64", "64B", "64KB" (1000), "64KiB" (1024), "1MB", "1MiB", "1GB", "1GiB" -> bytes.
Result<std::uint64_t> parse_bytes(std::string_view text);

// "SIGKILL", "KILL", "9", "sigterm" -> signal number.
Result<int> parse_signal(std::string_view text);
std::string signal_name(int signal);

enum class CompareOp { less, less_equal, greater, greater_equal, equal };

struct Comparison {
  CompareOp op = CompareOp::less;
  double value = 0;  // fraction for percentages, seconds for durations, plain number otherwise
  bool holds(double measured) const;
  std::string to_string() const;  // "< 0.3", used in messages
};

enum class QuantityKind { duration, percentage, number };

// "< 300ms" (kind duration, value in seconds), ">= 99%" (percentage, value as fraction).
Result<Comparison> parse_comparison(std::string_view text, QuantityKind kind);

}  // namespace chaosplus
