#pragma once
// Events back from their JSON lines (core/event.h's to_json_line): the journal reader and the
// results store both read events with these.
#include <chrono>
#include <optional>
#include <string_view>

#include "core/event.h"
#include "core/result.h"

namespace chaosplus {

// format_wall_time's text back into a time ("2026-12-06T16:17:00.125Z"; the fraction is optional).
std::optional<std::chrono::system_clock::time_point> parse_wall_time(std::string_view text);
// One JSON line of to_json_line back into an event: its type, wall time, elapsed time and fields in
// the order written (numbers written as integers come back as integers; nulls, written for numbers
// that were not finite, are left out).
Result<Event> parse_event_json(std::string_view line);

}  // namespace chaosplus
