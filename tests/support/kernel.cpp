#include "support/kernel.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "faults/nft_faults.h"
#include "faults/system_tool.h"
#include "support/support.h"

namespace chaosplus::testing {

std::string missing_for_kernel_faults() {
  std::string missing;
  if (::geteuid() != 0) missing += " root";
  for (const char* tool : {"nft", "tc", "ip"}) {
    if (faults::find_tool(tool).empty()) missing += std::string(" ") + tool;
  }
  return missing;
}

KernelTurn::KernelTurn() : fd_(::open("/tmp/chaosplus-kernel-faults-test.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
  held_ = fd_ >= 0 && wait_until([this] { return ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }, std::chrono::seconds(300));
}

KernelTurn::~KernelTurn() {
  if (fd_ >= 0) ::close(fd_);
}

std::string nft_ruleset() {
  auto out = faults::run_tool_checked({"nft", "list", "ruleset"});
  return out ? *out : "<" + out.error() + ">";
}

std::vector<std::string> fault_tables_of(pid_t pid) {
  std::vector<std::string> ours;
  auto tables = faults::list_inet_tables("");
  if (!tables) return {"<" + tables.error() + ">"};
  for (const auto& t : *tables) {
    if (t.starts_with("chaosplus_" + std::to_string(pid) + "_")) ours.push_back(t);
  }
  return ours;
}

}  // namespace chaosplus::testing
