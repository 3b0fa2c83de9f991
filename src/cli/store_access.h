#pragma once
// What the commands that read the results store share: the --store and --state-dir options, the
// store opened where store::resolve_location says, and the times history filters by.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "store/store.h"

namespace CLI {
class App;
}

namespace chaosplus::cli {

struct StoreOptions {
  std::string store;      // --store: "" for $CHAOSPLUS_STORE, the config file, or <state-dir>/results.db
  std::string state_dir;  // --state-dir: "" for runner::default_state_dir()
};

// Adds --store and --state-dir to `cmd`.
void add_store_options(CLI::App& cmd, StoreOptions& options);
Result<std::unique_ptr<store::Store>> open_store(const StoreOptions& options);

// "2026-12-06", "2026-12-06T10:00:00Z" (UTC), or a time ago: "24h", "30m", "7d".
Result<store::WallTime> parse_time_argument(const std::string& text, store::WallTime now);

// "2026-12-06 16:17:00" (UTC), "-" for an unset time.
std::string short_time(store::WallTime t);
// "1m12s", "-" while not ended.
std::string run_duration(const store::RunRow& run);

}  // namespace chaosplus::cli
