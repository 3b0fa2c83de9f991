#pragma once
// Small pieces the route handlers share (internal to src/server).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace chaosplus::server {

// One run as the API shows it; with the experiment file's text when `with_file_text`.
std::string run_json(const store::RunRow& run, bool with_file_text);
// {"seq":N,"time":...,"elapsed_ms":...,"type":...,fields...}
std::string event_json(const store::StoredEvent& event);

// "2026-12-06", "2026-12-06T16:00:00Z", "2026-12-06T16:00:00.250Z", or seconds since the epoch.
Result<store::WallTime> parse_time(std::string_view text);
// ISO 8601 UTC, or null when the time is unset.
std::string time_json(store::WallTime t);

// A whole number in [min, max]; `what` names it in the error.
Result<long long> parse_count(std::string_view text, long long min, long long max, const std::string& what);

}  // namespace chaosplus::server
