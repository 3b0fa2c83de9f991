#include "core/units.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstring>
#include <utility>

namespace chaosplus {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Reads a non-negative decimal number at the start of `s`; returns the characters consumed (0 if none).
std::size_t read_number(std::string_view s, double& out) {
  std::size_t i = 0;
  bool digits = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, digits = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    bool frac = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, frac = true;
    if (!frac) return 0;
  }
  if (!digits) return 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, out);
  if (ec != std::errc{} || ptr != s.data() + i) return 0;
  return i;
}

Error expected(std::string_view text, std::string_view what) {
  return Error{"'" + std::string(text) + "' is not " + std::string(what)};
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, double>, 7> units{
      {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}}};
  const std::string_view what = "a duration (expected a number and a unit: 250us, 500ms, 2s, 1m30s, 1h)";
  std::string_view s = trim(text);
  if (s.empty()) return expected(text, what);
  double seconds = 0;
  while (!s.empty()) {
    double number = 0;
    std::size_t used = read_number(s, number);
    if (used == 0) return expected(text, what);
    s.remove_prefix(used);
    std::size_t unit_len = 0;
    while (unit_len < s.size() && std::isalpha(static_cast<unsigned char>(s[unit_len]))) ++unit_len;
    std::string_view unit = s.substr(0, unit_len);
    double scale = -1;
    for (const auto& [name, factor] : units) {
      if (name == unit) scale = factor;
    }
    if (scale < 0) return expected(text, what);
    seconds += number * scale;
    s.remove_prefix(unit_len);
  }
  if (seconds > 365.0 * 86400) return Error{"'" + std::string(text) + "' is longer than a year"};
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

std::string format_duration(Duration d) {
  using namespace std::chrono;
  const auto ns = d.count();
  auto fmt = [](double v, const char* unit) {
    char buf[48];
    if (std::fabs(v - std::round(v)) < 1e-9) {
      std::snprintf(buf, sizeof buf, "%.0f%s", v, unit);
    } else {
      std::snprintf(buf, sizeof buf, "%.3g%s", v, unit);
    }
    return std::string(buf);
  };
  if (ns == 0) return "0s";
  if (ns % 3'600'000'000'000 == 0) return fmt(ns / 3.6e12, "h");
  if (ns >= 60'000'000'000 && ns % 60'000'000'000 == 0) return fmt(ns / 6e10, "m");
  if (ns >= 1'000'000'000) return fmt(ns / 1e9, "s");
  if (ns >= 1'000'000) return fmt(ns / 1e6, "ms");
  if (ns >= 1'000) return fmt(ns / 1e3, "us");
  return fmt(static_cast<double>(ns), "ns");
}

Result<double> parse_rate(std::string_view text) {
  const std::string_view what = "a rate (expected a number per unit of time: 200/s, 1200/m, 10/h)";
  std::string_view s = trim(text);
  double number = 0;
  std::size_t used = read_number(s, number);
  if (used == 0) return expected(text, what);
  s = trim(s.substr(used));
  if (s.empty() || s.front() != '/') return expected(text, what);
  s = trim(s.substr(1));
  double per = 0;
  if (s == "s") per = 1;
  else if (s == "m") per = 60;
  else if (s == "h") per = 3600;
  else return expected(text, what);
  return number / per;
}

Result<double> parse_percentage(std::string_view text) {
  const std::string_view what = "a percentage (expected a number from 0 to 100 followed by %: 99%, 99.5%)";
  std::string_view s = trim(text);
  double number = 0;
  std::size_t used = read_number(s, number);
  if (used == 0 || used + 1 != s.size() || s.back() != '%') return expected(text, what);
  if (number > 100) return expected(text, what);
  return number / 100.0;
}

Result<std::uint64_t> parse_bytes(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, double>, 8> units{{{"", 1},
                                                                             {"B", 1},
                                                                             {"KB", 1e3},
                                                                             {"KiB", 1024.0},
                                                                             {"MB", 1e6},
                                                                             {"MiB", 1048576.0},
                                                                             {"GB", 1e9},
                                                                             {"GiB", 1073741824.0}}};
  const std::string_view what = "a size (expected a number and a unit: 512B, 64KB, 64KiB, 1MB, 1GiB)";
  std::string_view s = trim(text);
  double number = 0;
  std::size_t used = read_number(s, number);
  if (used == 0) return expected(text, what);
  std::string_view unit = trim(s.substr(used));
  for (const auto& [name, factor] : units) {
    if (name == unit) return static_cast<std::uint64_t>(std::llround(number * factor));
  }
  return expected(text, what);
}

namespace {
constexpr std::array<std::pair<std::string_view, int>, 14> kSignals{{{"HUP", SIGHUP},
                                                                     {"INT", SIGINT},
                                                                     {"QUIT", SIGQUIT},
                                                                     {"ABRT", SIGABRT},
                                                                     {"KILL", SIGKILL},
                                                                     {"USR1", SIGUSR1},
                                                                     {"SEGV", SIGSEGV},
                                                                     {"USR2", SIGUSR2},
                                                                     {"PIPE", SIGPIPE},
                                                                     {"ALRM", SIGALRM},
                                                                     {"TERM", SIGTERM},
                                                                     {"CONT", SIGCONT},
                                                                     {"STOP", SIGSTOP},
                                                                     {"TSTP", SIGTSTP}}};
}

Result<int> parse_signal(std::string_view text) {
  std::string upper;
  for (char c : trim(text)) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view name = upper;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (const auto& [n, number] : kSignals) {
    if (n == name) return number;
  }
  int number = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec == std::errc{} && ptr == name.data() + name.size() && number > 0 && number < 65) return number;
  return expected(text, "a signal (expected a name such as SIGTERM, SIGKILL, SIGINT, or a number 1-64)");
}

std::string signal_name(int signal) {
  for (const auto& [n, number] : kSignals) {
    if (number == signal) return "SIG" + std::string(n);
  }
  return std::to_string(signal);
}

bool Comparison::holds(double measured) const {
  switch (op) {
    case CompareOp::less: return measured < value;
    case CompareOp::less_equal: return measured <= value;
    case CompareOp::greater: return measured > value;
    case CompareOp::greater_equal: return measured >= value;
    case CompareOp::equal: return measured == value;
  }
  return false;
}

std::string Comparison::to_string() const {
  static constexpr std::array<const char*, 5> names{"<", "<=", ">", ">=", "=="};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %g", names[static_cast<int>(op)], value);
  return buf;
}

Result<Comparison> parse_comparison(std::string_view text, QuantityKind kind) {
  std::string_view s = trim(text);
  Comparison c;
  if (s.starts_with("<=")) c.op = CompareOp::less_equal, s.remove_prefix(2);
  else if (s.starts_with(">=")) c.op = CompareOp::greater_equal, s.remove_prefix(2);
  else if (s.starts_with("==")) c.op = CompareOp::equal, s.remove_prefix(2);
  else if (s.starts_with("<")) c.op = CompareOp::less, s.remove_prefix(1);
  else if (s.starts_with(">")) c.op = CompareOp::greater, s.remove_prefix(1);
  else {
    const char* example = kind == QuantityKind::duration     ? "< 300ms"
                          : kind == QuantityKind::percentage ? ">= 99%"
                                                             : "< 100";
    return Error{"'" + std::string(text) +
                 "' is not a comparison (expected an operator <, <=, >, >=, == and a value, e.g. \"" + example + "\")"};
  }
  s = trim(s);
  switch (kind) {
    case QuantityKind::duration: {
      auto d = parse_duration(s);
      if (!d) return Error{d.error()};
      c.value = std::chrono::duration<double>(*d).count();
      break;
    }
    case QuantityKind::percentage: {
      auto p = parse_percentage(s);
      if (!p) return Error{p.error()};
      c.value = *p;
      break;
    }
    case QuantityKind::number: {
      double v = 0;
      std::size_t used = read_number(s, v);
      if (used == 0 || used != s.size()) return expected(s, "a number");
      c.value = v;
      break;
    }
  }
  return c;
}

}  // namespace chaosplus
