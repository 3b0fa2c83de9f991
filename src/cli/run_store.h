#pragma once
// How `report` and `compare` find a run: RUN is a journal file, or a run id (or a unique prefix of
// one) in the results store. The store is where every command looks for it (store/location.h:
// --store, $CHAOSPLUS_STORE, the config file, <state dir>/results.db), opened only when needed and
// never made by a command that only reads: no store file yet means no store.
#include <memory>
#include <string>

#include "core/result.h"
#include "report/run_data.h"
#include "store/store.h"

namespace chaosplus::cli {

class RunStore {
 public:
  RunStore(std::string flag, std::string state_dir) : flag_(std::move(flag)), state_dir_(std::move(state_dir)) {}

  // The store, opened on first use; nullptr when none is configured and none exists yet.
  Result<store::Store*> get();
  // A journal file, else a run in the store.
  Result<report::LoadedRun> load(const std::string& run);
  // "sqlite /path/results.db", or why there is none ("no results store at /path/results.db").
  std::string describe();

 private:
  std::string flag_, state_dir_;
  bool tried_ = false;
  std::string location_;
  std::unique_ptr<store::Store> store_;
};

}  // namespace chaosplus::cli
