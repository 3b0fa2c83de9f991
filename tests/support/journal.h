#pragma once
// Reading a run's journal in tests: the events of one type, in the order they were written.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace chaosplus::testing {

// Every event of `type` in the JSONL journal at `path` (none when it does not exist yet); a line
// that is not JSON (a line still being written) is skipped.
std::vector<nlohmann::json> journal_events(const std::string& path, const std::string& type);

}  // namespace chaosplus::testing
