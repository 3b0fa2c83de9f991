#include "probes/expectation.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <regex>
#include <unordered_map>

namespace chaosplus::probes {
namespace {

struct CompiledRegex {
  std::shared_ptr<const std::regex> regex;  // null if the pattern is invalid
  std::string error;
};

// libstdc++'s default (backtracking) matcher recurses once per character and overflows the stack
// on bodies of ~100 KB; its polynomial mode (Thompson NFA) does not, but refuses back-references.
CompiledRegex compile(const std::string& pattern) {
  try {
    return {std::make_shared<const std::regex>(
                pattern, std::regex::ECMAScript | std::regex::optimize | std::regex_constants::__polynomial),
            {}};
  } catch (const std::regex_error& e) {
    if (e.code() == std::regex_constants::error_backref) {
      return {nullptr, "regex '" + pattern + "' uses a back-reference, which probes do not support"};
    }
    return {nullptr, "invalid regex '" + pattern + "': " + e.what()};
  }
}

// A copy (a shared_ptr and a string): another thread may clear the cache right after.
CompiledRegex cached(const std::string& pattern) {
  static std::mutex mutex;
  static std::unordered_map<std::string, CompiledRegex> cache;
  std::lock_guard lock(mutex);
  // Experiments hold a handful of patterns; the cap only guards against an unbounded caller.
  if (cache.size() > 1024 && !cache.contains(pattern)) cache.clear();
  auto it = cache.find(pattern);
  if (it == cache.end()) it = cache.emplace(pattern, compile(pattern)).first;
  return it->second;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string judge_text(std::string_view what, std::string_view text, const std::optional<std::string>& contains,
                       const std::optional<std::string>& regex) {
  if (contains && text.find(*contains) == std::string_view::npos) {
    return std::string(what) + " does not contain " + quoted(*contains);
  }
  if (regex) {
    auto matched = regex_search(*regex, text);
    if (!matched) return matched.error();
    if (!*matched) return std::string(what) + " does not match regex " + quoted(*regex);
  }
  return {};
}

std::string judge_latency_if_set(const spec::Expectation& expect, Duration latency) {
  return expect.latency ? judge_latency(*expect.latency, latency) : std::string();
}

}  // namespace

Result<bool> regex_search(const std::string& pattern, std::string_view text) {
  const CompiledRegex compiled = cached(pattern);
  if (!compiled.regex) return Error{compiled.error};
  try {
    return std::regex_search(text.begin(), text.end(), *compiled.regex);
  } catch (const std::regex_error& e) {
    return Error{"regex " + quoted(pattern) + " failed: " + e.what()};
  }
}

std::string judge_latency(const Comparison& limit, Duration latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  if (limit.holds(seconds)) return {};
  static constexpr const char* ops[] = {"<", "<=", ">", ">=", "="};
  const auto limit_ns = Duration(std::llround(limit.value * 1e9));
  const auto shown = std::chrono::duration_cast<std::chrono::microseconds>(latency);
  return "latency " + format_duration(shown) + " not " + ops[static_cast<int>(limit.op)] + " " +
         format_duration(limit_ns);
}

std::string judge_http(const spec::Expectation& expect, int status, std::string_view body, Duration latency) {
  if (expect.status.empty()) {
    if (status < 200 || status > 299) return "status " + std::to_string(status) + " not 2xx";
  } else if (std::find(expect.status.begin(), expect.status.end(), status) == expect.status.end()) {
    std::string allowed;
    for (int s : expect.status) allowed += (allowed.empty() ? "" : ", ") + std::to_string(s);
    return "status " + std::to_string(status) + " not in [" + allowed + "]";
  }
  if (auto failed = judge_text("body", body, expect.body_contains, expect.body_regex); !failed.empty()) return failed;
  return judge_latency_if_set(expect, latency);
}

std::string judge_command(const spec::Expectation& expect, int exit_code, std::string_view output, Duration latency) {
  const int wanted = expect.exit_code.value_or(0);
  if (exit_code != wanted) {
    return "exit code " + std::to_string(exit_code) + ", expected " + std::to_string(wanted);
  }
  if (auto failed = judge_text("output", output, expect.output_contains, expect.output_regex); !failed.empty()) {
    return failed;
  }
  return judge_latency_if_set(expect, latency);
}

std::string judge_sql(const spec::Expectation& expect, std::size_t rows, const std::optional<std::string>& first_value,
                      std::string_view output, Duration latency) {
  if (expect.rows && !expect.rows->holds(static_cast<double>(rows))) {
    auto wanted = expect.rows->to_string();
    return std::to_string(rows) + (rows == 1 ? " row" : " rows") + ", expected " + wanted;
  }
  if (expect.value) {
    if (rows == 0) return "no row, expected the value " + quoted(*expect.value);
    if (!first_value) return "the first value is NULL, expected " + quoted(*expect.value);
    if (*first_value != *expect.value) return "the first value is " + quoted(*first_value) + ", expected " + quoted(*expect.value);
  }
  if (auto failed = judge_text("output", output, expect.output_contains, expect.output_regex); !failed.empty()) {
    return failed;
  }
  return judge_latency_if_set(expect, latency);
}

std::string judge_tcp(const spec::Expectation& expect, Duration latency) {
  return judge_latency_if_set(expect, latency);
}

}  // namespace chaosplus::probes
