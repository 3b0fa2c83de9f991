#include "faults/file_leftovers.h"

#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "faults/file_state.h"

namespace chaosplus::faults {

std::vector<FileLeftover> file_fault_leftovers(std::string_view kind, std::string_view record) {
  std::vector<FileLeftover> out;
  const auto r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return out;
  std::error_code ec;
  if (kind == "file.disk_fill") {
    const std::string folder = r.value("folder", std::string());
    if (folder.empty() || !std::filesystem::exists(folder, ec)) return out;
    std::uintmax_t bytes = 0;
    std::size_t files = 0;
    for (const auto& f : std::filesystem::directory_iterator(folder, ec)) {
      ++files;
      bytes += f.file_size(ec);
    }
    out.push_back({"disk fill folder",
                   folder + " (" + std::to_string(files) + " file(s), " + std::to_string(bytes / (1024 * 1024)) +
                       " MiB, made by a disk_fill fault)",
                   "`chaosplus recover` removes the files its ledger names; by hand: rm -r " + folder});
  } else if (kind == "file.credential") {
    const std::string folder = r.value("folder", std::string());
    const std::string path = r.value("path", std::string());
    struct stat st {};
    if (folder.empty() || ::lstat((folder + "/original").c_str(), &st) != 0) return out;
    out.push_back({"credential set aside",
                   path + " (the original is " + folder + "/original, " +
                       (r.value("action", std::string()) == "replace" ? "another content is at the path)"
                                                                      : "the path is missing)"),
                   "`chaosplus recover` moves it back; by hand, once the path holds nothing of the owner's: mv " +
                       folder + "/original " + path + " && rm -r " + folder});
  } else if (kind == "file.revoke" && r.contains("entries") && r["entries"].is_array()) {
    for (const auto& e : r["entries"]) {
      if (!e.is_object() || !e.contains("state")) continue;
      const std::string path = e.value("path", std::string());
      auto recorded = FileState::from_json(e["state"]);
      auto now = snapshot(path);
      if (!recorded || !now || !now->same_file(*recorded)) continue;
      if (auto diff = compare(*recorded, *now); !diff.empty()) {
        out.push_back({"revoked access", path + ": " + diff,
                       "`chaosplus recover` puts the recorded mode, owner, ACLs, xattrs and flags back"});
      }
    }
  }
  return out;
}

}  // namespace chaosplus::faults
