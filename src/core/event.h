#pragma once
// The one record every engine emits: a typed, timestamped fact on the run's timeline
// ("fault.injected", "probe.result", "guardrail.tripped", ...). Consumers (journal, guardrails,
// live view, verdict) all read the same stream.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/units.h"

namespace chaosplus {

using FieldValue = std::variant<std::string, double, std::int64_t, bool>;

struct Event {
  std::string type;
  std::chrono::system_clock::time_point wall{};  // for display and storage
  Duration elapsed{};                            // since the run started (steady clock)
  std::vector<std::pair<std::string, FieldValue>> fields;

  Event() = default;
  explicit Event(std::string event_type) : type(std::move(event_type)) {}

  Event& with(std::string key, FieldValue value) &;
  Event&& with(std::string key, FieldValue value) &&;
  Event&& with(std::string key, const char* value) && { return std::move(*this).with(std::move(key), std::string(value)); }
  Event&& with(std::string key, int value) && { return std::move(*this).with(std::move(key), std::int64_t{value}); }

  const FieldValue* find(std::string_view key) const;
  std::string text(std::string_view key) const;          // "" when absent or not a string
  double number(std::string_view key, double fallback = 0) const;  // ints and doubles
  bool flag(std::string_view key) const;                 // false when absent
};

// One JSON object: {"time":"2026-...Z","elapsed_ms":12.5,"type":"...", fields...}
std::string to_json_line(const Event& event);
// ISO 8601 UTC with milliseconds.
std::string format_wall_time(std::chrono::system_clock::time_point t);

}  // namespace chaosplus
