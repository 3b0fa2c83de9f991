#include "core/event_json.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace chaosplus {

std::optional<std::chrono::system_clock::time_point> parse_wall_time(std::string_view text) {
  std::tm tm{};
  int millis = 0;
  char zone = 0;
  const std::string s(text);
  int fields = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis, &zone);
  if (fields != 8 || zone != 'Z') {
    millis = 0;
    fields = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                         &tm.tm_min, &tm.tm_sec, &zone);
    if (fields != 7 || zone != 'Z') return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t secs = timegm(&tm);
  if (secs == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::seconds(secs) + std::chrono::milliseconds(millis));
}

Result<Event> parse_event_json(std::string_view line) {
  // ordered_json keeps the fields in the order they were written.
  const auto json = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return Error{"not a JSON object", ErrorCode::invalid_argument};
  const auto type = json.find("type");
  if (type == json.end() || !type->is_string()) return Error{"no \"type\" string", ErrorCode::invalid_argument};
  Event e(type->get<std::string>());
  if (const auto time = json.find("time"); time != json.end() && time->is_string()) {
    if (auto wall = parse_wall_time(time->get<std::string>())) e.wall = *wall;
  }
  if (const auto elapsed = json.find("elapsed_ms"); elapsed != json.end() && elapsed->is_number()) {
    e.elapsed = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(elapsed->get<double>()));
  }
  for (const auto& [key, value] : json.items()) {
    if (key == "type" || key == "time" || key == "elapsed_ms") continue;
    if (value.is_boolean()) e.with(key, value.get<bool>());
    else if (value.is_number_integer()) e.with(key, value.get<std::int64_t>());
    else if (value.is_number()) e.with(key, value.get<double>());
    else if (value.is_string()) e.with(key, value.get<std::string>());
    // null (a number that was not finite) and anything else carry nothing to compute with
  }
  return e;
}

}  // namespace chaosplus
