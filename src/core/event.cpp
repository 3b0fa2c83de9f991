#include "core/event.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace chaosplus {

const FieldValue* Event::find(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string Event::text(std::string_view key) const {
  const FieldValue* v = find(key);
  if (v == nullptr) return {};
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  return {};
}

double Event::number(std::string_view key, double fallback) const {
  const FieldValue* v = find(key);
  if (v == nullptr) return fallback;
  if (const auto* d = std::get_if<double>(v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  return fallback;
}

bool Event::flag(std::string_view key) const {
  const FieldValue* v = find(key);
  if (v == nullptr) return false;
  if (const auto* b = std::get_if<bool>(v)) return *b;
  return false;
}

namespace {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  out += buf;
}

}  // namespace

std::string format_wall_time(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string to_json_line(const Event& event) {
  std::string out = "{\"time\":";
  append_json_string(out, format_wall_time(event.wall));
  out += ",\"elapsed_ms\":";
  append_number(out, std::chrono::duration<double, std::milli>(event.elapsed).count());
  out += ",\"type\":";
  append_json_string(out, event.type);
  for (const auto& [key, value] : event.fields) {
    out += ',';
    append_json_string(out, key);
    out += ':';
    std::visit(
        [&out](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) append_json_string(out, v);
          else if constexpr (std::is_same_v<T, bool>) out += v ? "true" : "false";
          else if constexpr (std::is_same_v<T, double>) append_number(out, v);
          else out += std::to_string(v);
        },
        value);
  }
  out += '}';
  return out;
}

}  // namespace chaosplus
