#pragma once
// The one record every engine emits: a typed, timestamped fact on the run's timeline
// ("fault.injected", "probe.result", "guardrail.tripped", ...). Consumers (journal, guardrails,
// live view, verdict) all read the same stream.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/units.h"

namespace chaosplus {

using FieldValue = std::variant<std::string, double, std::int64_t, bool>;

template <typename T>
FieldValue to_field(T&& value) {
  using V = std::decay_t<T>;
  if constexpr (std::is_same_v<V, FieldValue>) return std::forward<T>(value);
  else if constexpr (std::is_same_v<V, bool>) return value;
  else if constexpr (std::is_integral_v<V>) return static_cast<std::int64_t>(value);
  else if constexpr (std::is_floating_point_v<V>) return static_cast<double>(value);
  else return std::string(std::forward<T>(value));
}

struct Event {
  std::string type;
  std::chrono::system_clock::time_point wall{};  // for display and storage
  Duration elapsed{};                            // since the run started (steady clock)
  std::vector<std::pair<std::string, FieldValue>> fields;

  Event() = default;
  explicit Event(std::string event_type) : type(std::move(event_type)) {}

  // Any string, bool, integer or floating-point value; integers are stored as int64, floats as double.
  template <typename T>
  Event& with(std::string key, T&& value) & {
    fields.emplace_back(std::move(key), to_field(std::forward<T>(value)));
    return *this;
  }
  template <typename T>
  Event&& with(std::string key, T&& value) && {
    fields.emplace_back(std::move(key), to_field(std::forward<T>(value)));
    return std::move(*this);
  }

  const FieldValue* find(std::string_view key) const;
  std::string text(std::string_view key) const;                    // "" when absent or not a string
  double number(std::string_view key, double fallback = 0) const;  // ints and doubles
  bool flag(std::string_view key) const;                           // false when absent
};

// One JSON object: {"time":"2026-...Z","elapsed_ms":12.5,"type":"...", fields...}
std::string to_json_line(const Event& event);
// ISO 8601 UTC with milliseconds.
std::string format_wall_time(std::chrono::system_clock::time_point t);

}  // namespace chaosplus
