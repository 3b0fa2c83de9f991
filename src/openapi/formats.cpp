#include "openapi/formats.h"

#include "openapi/refs.h"
#include "openapi/source.h"

namespace chaosplus::openapi {
namespace {

// `count` digits at `at`, as a number; -1 when they are not all digits.
int digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return -1;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// RFC 3339 full-date at the start of `text`; the length read, or 0.
std::size_t read_date(std::string_view text) {
  const int year = digits(text, 0, 4);
  const int month = digits(text, 5, 2);
  const int day = digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || text[4] != '-' || text[7] != '-') return 0;
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int last = month == 2 && leap(year) ? 29 : kDays[month - 1];
  return day <= last ? 10 : 0;
}

struct Checker {
  const char* name;
  bool (*check)(std::string_view);
  const char* what;
};

const Checker* checker_for(const std::string& format) {
  static const Checker kCheckers[] = {
      {"date", is_date, "a date"}, {"time", is_time, "a time"}, {"date-time", is_date_time, "a date and time"}};
  for (const auto& checker : kCheckers) {
    if (format == checker.name) return &checker;
  }
  return nullptr;
}

std::optional<std::string> walk(const Json& schema, const Json& value, const std::string& pointer, int depth) {
  constexpr int kMaxDepth = 256;
  if (!schema.is_object() || depth > kMaxDepth) return std::nullopt;
  if (auto format = schema.find("format"); format != schema.end() && format->is_string() && value.is_string()) {
    if (const Checker* checker = checker_for(format->get<std::string>());
        checker != nullptr && !checker->check(value.get_ref<const std::string&>())) {
      return (pointer.empty() ? "/" : pointer) + ": expected " + checker->what + " (format " + checker->name +
             "), found " + describe(value);
    }
  }
  if (auto all = schema.find("allOf"); all != schema.end() && all->is_array()) {
    for (const auto& branch : *all) {
      if (auto problem = walk(branch, value, pointer, depth + 1)) return problem;
    }
  }
  if (value.is_object()) {
    const auto props = schema.find("properties");
    const auto extra = schema.find("additionalProperties");
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string child = pointer + "/" + pointer_segment(it.key());
      const Json* sub = nullptr;
      if (props != schema.end() && props->is_object() && props->contains(it.key())) sub = &(*props)[it.key()];
      else if (extra != schema.end() && extra->is_object()) sub = &*extra;
      if (sub == nullptr) continue;
      if (auto problem = walk(*sub, it.value(), child, depth + 1)) return problem;
    }
  } else if (value.is_array()) {
    const auto items = schema.find("items");
    if (items == schema.end()) return std::nullopt;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const Json* sub = items->is_array() ? (i < items->size() ? &(*items)[i] : nullptr) : &*items;
      if (sub == nullptr) break;
      if (auto problem = walk(*sub, value[i], pointer + "/" + std::to_string(i), depth + 1)) return problem;
    }
  }
  return std::nullopt;
}

}  // namespace

bool is_date(std::string_view text) { return text.size() == 10 && read_date(text) == 10; }

bool is_time(std::string_view text) {
  const int hour = digits(text, 0, 2);
  const int minute = digits(text, 3, 2);
  const int second = digits(text, 6, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60 || text[2] != ':' ||
      text[5] != ':') {
    return false;
  }
  std::size_t at = 8;
  if (at < text.size() && text[at] == '.') {
    const std::size_t start = ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
    if (at == start) return false;
  }
  if (at >= text.size()) return false;  // RFC 3339 requires the offset
  if (text[at] == 'Z' || text[at] == 'z') return at + 1 == text.size();
  if (text[at] != '+' && text[at] != '-') return false;
  const int offset_hour = digits(text, at + 1, 2);
  const int offset_minute = digits(text, at + 4, 2);
  return offset_hour >= 0 && offset_hour <= 23 && offset_minute >= 0 && offset_minute <= 59 && text[at + 3] == ':' &&
         at + 6 == text.size();
}

bool is_date_time(std::string_view text) {
  if (text.size() < 11 || read_date(text) != 10) return false;
  if (text[10] != 'T' && text[10] != 't') return false;
  return is_time(text.substr(11));
}

std::optional<std::string> check_formats(const Json& schema, const Json& body) { return walk(schema, body, "", 0); }

}  // namespace chaosplus::openapi
