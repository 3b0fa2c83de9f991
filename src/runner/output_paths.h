#pragma once
// Where a run writes. Each run has an id unique even among runs started in the same millisecond,
// the journal's name is expanded from the experiment's pattern with it, and the folders chaosplus
// creates are owner-only: journals, logs and the ledger tell what a run did and how to undo it.
#include <chrono>
#include <string>

#include "core/result.h"

namespace chaosplus::runner {

// "20261125T214500.123Z": a start time in UTC, to the millisecond.
std::string run_time_stamp(std::chrono::system_clock::time_point time);

// "20261125T214500.123Z-3fa9c1": the start time and a random suffix.
std::string make_run_id(std::chrono::system_clock::time_point start);

// "{name}-{run}.jsonl" -> "quickstart-20261125T214500.123Z-3fa9c1.jsonl"; {time} is the time stamp.
std::string expand_output_path(const std::string& pattern, const std::string& name,
                               std::chrono::system_clock::time_point time, const std::string& run_id);

// Creates the folders of `path` that are missing, owner-only (0700). Folders that exist are left as
// they are (the user may have chosen a shared one such as /tmp); one that is not a folder is an error.
Status create_private_directories(const std::string& path);

}  // namespace chaosplus::runner
