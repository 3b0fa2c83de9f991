#include "cli/run_store.h"

#include <sys/stat.h>

#include "runner/recovery.h"
#include "store/location.h"

namespace chaosplus::cli {

Result<store::Store*> RunStore::get() {
  if (tried_) return store_.get();
  tried_ = true;
  auto location = store::resolve_location(flag_, state_dir_.empty() ? runner::default_state_dir() : state_dir_);
  if (!location) return location.failure();
  location_ = *location;
  const bool remote = location_.starts_with("postgresql://") || location_.starts_with("postgres://");
  if (!remote) {
    // Reading never makes a store: an SQLite file that is not there holds no run.
    const std::string path = location_.starts_with("sqlite:") ? location_.substr(7) : location_;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return static_cast<store::Store*>(nullptr);
  }
  auto opened = store::Store::open(location_);
  if (!opened) return opened.failure();
  store_ = std::move(opened).value();
  return store_.get();
}

Result<report::LoadedRun> RunStore::load(const std::string& run) {
  struct stat st {};
  if (::stat(run.c_str(), &st) == 0) return report::load_run(run, nullptr);
  auto opened = get();
  if (!opened) return opened.failure();
  if (*opened == nullptr)
    return Error{
        run + ": no such journal file, and no results store to look a run id up in (none at " + location_ + ")",
        ErrorCode::not_found};
  return report::load_run(run, *opened);
}

std::string RunStore::describe() {
  auto opened = get();
  if (!opened) return "the results store cannot be opened: " + opened.error();
  if (*opened == nullptr) return "no results store at " + location_;
  return (*opened)->describe();
}

}  // namespace chaosplus::cli
