#pragma once
// What a file fault (disk_fill, revoke, credential) whose ledger entry is still open may have left
// on the host, for `chaosplus leftovers`: a fill folder still there, a credential file still set
// aside, a revoked file whose access state still differs from its record.
#include <string>
#include <string_view>
#include <vector>

namespace chaosplus::faults {

struct FileLeftover {
  std::string what;    // "disk fill folder", "credential set aside", "revoked access"
  std::string detail;  // which one
  std::string how;     // how to put it back by hand
};

// Nothing for another kind, or when what the record names is back as it was.
std::vector<FileLeftover> file_fault_leftovers(std::string_view kind, std::string_view record);

}  // namespace chaosplus::faults
