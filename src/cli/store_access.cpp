#include "cli/store_access.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>

#include "core/event_json.h"
#include "core/units.h"
#include "runner/recovery.h"
#include "store/location.h"

namespace chaosplus::cli {

void add_store_options(CLI::App& cmd, StoreOptions& options) {
  cmd.add_option("--store", options.store,
                 "the results store: a postgresql:// URI (loopback) or an SQLite file (default: $CHAOSPLUS_STORE, "
                 "else store: in ~/.config/chaosplus/config.yaml, else results.db in the state folder)");
  cmd.add_option("--state-dir", options.state_dir,
                 "folder of the fault ledger (default: $CHAOSPLUS_STATE_DIR or ~/.local/state/chaosplus)");
}

Result<std::unique_ptr<store::Store>> open_store(const StoreOptions& options) {
  const std::string state_dir = options.state_dir.empty() ? runner::default_state_dir() : options.state_dir;
  auto location = store::resolve_location(options.store, state_dir);
  if (!location) return location.failure();
  return store::Store::open(*location);
}

Result<store::WallTime> parse_time_argument(const std::string& text, store::WallTime now) {
  if (!text.empty() && text.back() == 'd' && text.find_first_not_of("0123456789") == text.size() - 1) {
    const auto days = std::chrono::hours(24 * std::stol(text.substr(0, text.size() - 1)));
    return store::WallTime(now - std::chrono::duration_cast<store::WallTime::duration>(days));
  }
  if (auto ago = parse_duration(text)) {
    return store::WallTime(now - std::chrono::duration_cast<store::WallTime::duration>(*ago));
  }
  if (auto full = parse_wall_time(text)) return *full;
  int year = 0, month = 0, day = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &year, &month, &day, &extra) == 3 && month >= 1 && month <= 12 &&
      day >= 1 && day <= 31) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    return store::WallTime(std::chrono::seconds(timegm(&tm)));
  }
  return Error{"'" + text +
                   "' is not a time: expected a date (2026-12-06), a UTC time (2026-12-06T10:00:00Z) or a "
                   "time ago (24h, 30m, 7d)",
               ErrorCode::invalid_argument};
}

std::string short_time(store::WallTime t) {
  if (t == store::WallTime{}) return "-";
  std::string text = format_wall_time(t);  // 2026-12-06T16:17:00.123Z
  text[10] = ' ';
  return text.substr(0, 19);
}

std::string run_duration(const store::RunRow& run) {
  if (run.ended == store::WallTime{} || run.ended < run.started) return "-";
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(run.ended - run.started);
  return format_duration(seconds);
}

}  // namespace chaosplus::cli
