#include "faults/file_corruption.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace chaosplus::faults {
namespace {

enum class RunState { corrupted, original, rewritten };

RunState state_of_run(const std::string& path, const PageFlip& f) {
  auto now = read_at(path, f.offset, f.corrupted.size());
  if (!now || now->size() != f.corrupted.size()) return RunState::rewritten;  // cut short: not ours
  if (*now == f.corrupted) return RunState::corrupted;
  if (*now == f.original) return RunState::original;
  return RunState::rewritten;
}

std::string count_text(int n, const std::string& what) { return std::to_string(n) + " " + what; }

void remove_copy(const Corruption& c) {
  if (c.copy.empty()) return;
  std::error_code ec;
  std::filesystem::remove(c.copy, ec);
}

}  // namespace

std::string_view state_name(FileState state) {
  switch (state) {
    case FileState::corrupted: return "corrupted";
    case FileState::original: return "original";
    case FileState::changed: return "changed";
    case FileState::replaced: return "replaced";
  }
  return "?";
}

std::string copies_folder(const std::string& state_dir) { return state_dir + "/corrupt"; }

std::string Corruption::to_json() const {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& f : flips) {
    runs.push_back({{"page", f.page},
                    {"offset", f.offset},
                    {"original", to_hex(f.original)},
                    {"corrupted", to_hex(f.corrupted)}});
  }
  return nlohmann::json{{"path", path},
                        {"format", format},
                        {"page_size", page_size},
                        {"size", size},
                        {"device", device},
                        {"inode", inode},
                        {"copy", copy},
                        {"sha256_before", sha256_before},
                        {"sha256_after", sha256_after},
                        {"seed", seed},
                        {"flips", std::move(runs)}}
      .dump();
}

Result<Corruption> Corruption::from_json(std::string_view json) {
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{"not a corruption record: " + std::string(json)};
  try {
    Corruption c;
    c.path = j.at("path").get<std::string>();
    c.format = j.value("format", std::string("raw"));
    c.page_size = j.value("page_size", std::uint64_t{0});
    c.size = j.value("size", std::uint64_t{0});
    c.device = j.value("device", std::uint64_t{0});
    c.inode = j.value("inode", std::uint64_t{0});
    c.copy = j.value("copy", std::string());
    c.sha256_before = j.value("sha256_before", std::string());
    c.sha256_after = j.value("sha256_after", std::string());
    c.seed = j.value("seed", std::uint64_t{0});
    for (const auto& r : j.value("flips", nlohmann::json::array())) {
      PageFlip f;
      f.page = r.at("page").get<std::uint64_t>();
      f.offset = r.at("offset").get<std::uint64_t>();
      auto original = from_hex(r.at("original").get<std::string>());
      auto corrupted = from_hex(r.at("corrupted").get<std::string>());
      if (!original || !corrupted || original->size() != corrupted->size()) {
        return Error{"corruption record of " + c.path + ": run at offset " + std::to_string(f.offset) + " is unreadable"};
      }
      f.original = std::move(original).value();
      f.corrupted = std::move(corrupted).value();
      c.flips.push_back(std::move(f));
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    return Error{std::string("corruption record is incomplete: ") + e.what()};
  }
}

Result<Corruption> prepare(const std::string& path, PageFormat format, PagePlan plan, const std::string& copy_path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error{"cannot corrupt " + path + ": " + std::strerror(errno),
                 errno == ENOENT ? ErrorCode::not_found : ErrorCode::io_error};
  }
  if (!S_ISREG(st.st_mode)) return Error{"cannot corrupt " + path + ": not a regular file", ErrorCode::invalid_argument};
  Corruption c;
  c.path = path;
  c.format = std::string(format_name(format));
  c.page_size = plan.page_size;
  c.size = static_cast<std::uint64_t>(st.st_size);
  c.device = st.st_dev;
  c.inode = st.st_ino;
  c.seed = plan.seed;
  plan.file_size = c.size;
  auto flips = plan_flips(plan);
  if (!flips) return Error{"cannot corrupt " + path + ": " + flips.error(), flips.code()};
  std::error_code ec;
  const auto folder = std::filesystem::path(copy_path).parent_path();
  std::filesystem::create_directories(folder, ec);
  std::filesystem::permissions(folder, std::filesystem::perms::owner_all, ec);
  if (ec) return Error{"cannot make " + folder.string() + " for the copy: " + ec.message(), ErrorCode::io_error};
  auto sha = copy_exactly(path, copy_path);
  if (!sha) return Error{sha.failure()};
  c.copy = copy_path;
  c.sha256_before = *sha;
  // The original bytes come from the copy, so they agree with sha256_before.
  for (auto& f : *flips) {
    auto bytes = read_at(copy_path, f.offset, f.original.size());
    if (!bytes) return Error{bytes.failure()};
    if (bytes->size() != f.original.size()) return Error{copy_path + " is shorter than " + path + " was"};
    f.original = std::move(bytes).value();
  }
  flip_bytes(*flips, plan.seed);
  c.flips = std::move(flips).value();
  auto after = file_sha256(copy_path, c.flips, true);
  if (!after) return Error{after.failure()};
  c.sha256_after = *after;
  return c;
}

Status apply(const Corruption& c) {
  for (const auto& f : c.flips) {
    if (state_of_run(c.path, f) != RunState::original) {
      return Error{c.path + " changed at offset " + std::to_string(f.offset) +
                   " after its copy was made: its owner is writing to it (checkpoint or stop it first); nothing written"};
    }
  }
  if (auto s = write_runs(c.path, c.flips, true); !s) return s;
  auto now = file_sha256(c.path);
  if (!now) return Error{now.failure()};
  if (*now != c.sha256_after) {
    return Error{c.path + " has SHA-256 " + *now + " after the flips, not the expected " + c.sha256_after +
                 ": its owner wrote to it meanwhile"};
  }
  return ok_status();
}

Result<RestoreReport> restore(const Corruption& c) {
  RestoreReport report;
  if (c.flips.empty() || c.sha256_after.empty()) {
    report.found = FileState::original;
    report.said = c.path + ": nothing was flipped (the fault stopped before it wrote)";
    remove_copy(c);
    return report;
  }
  struct stat st {};
  const bool gone = ::stat(c.path.c_str(), &st) != 0;
  if (gone || st.st_ino != c.inode || st.st_dev != c.device) {
    report.found = FileState::replaced;
    report.runs_rewritten = static_cast<int>(c.flips.size());
    report.said = c.path + (gone ? " no longer exists" : " is another file now (another inode)") +
                  ": its owner removed or replaced the corrupted file (a re-initialised data folder, a rewritten "
                  "table); nothing of the corruption is left there, and nothing was written";
    remove_copy(c);
    return report;
  }
  auto now = file_sha256(c.path);
  if (!now) return Error{now.failure()};
  if (*now == c.sha256_before) {
    report.found = FileState::original;
    report.runs_original = static_cast<int>(c.flips.size());
    report.verified = true;
    report.said = c.path + " already holds its original bytes (SHA-256 " + c.sha256_before + ")";
    remove_copy(c);
    return report;
  }
  report.found = *now == c.sha256_after ? FileState::corrupted : FileState::changed;
  // The original bytes from the copy when it is there and agrees with the record.
  std::vector<PageFlip> back;
  for (const auto& f : c.flips) {
    const RunState state = state_of_run(c.path, f);
    if (state == RunState::original) ++report.runs_original;
    if (state == RunState::rewritten) ++report.runs_rewritten;
    if (state != RunState::corrupted) continue;
    PageFlip run = f;
    if (!c.copy.empty()) {
      if (auto kept = read_at(c.copy, f.offset, f.original.size()); kept && *kept == f.original) run.original = *kept;
    }
    back.push_back(std::move(run));
  }
  if (auto s = write_runs(c.path, back, false); !s) return Error{s.failure()};
  report.runs_restored = static_cast<int>(back.size());
  if (report.found == FileState::corrupted) {
    auto after = file_sha256(c.path);
    if (!after) return Error{after.failure()};
    if (*after != c.sha256_before) {
      return Error{c.path + " has SHA-256 " + *after + " after the original bytes were written back, not " +
                   c.sha256_before + " (its SHA-256 before the corruption); the copy is kept at " + c.copy};
    }
    report.verified = true;
    report.said = c.path + ": wrote back the original bytes of " + count_text(report.runs_restored, "run(s)") +
                  "; SHA-256 " + c.sha256_before + " as before the corruption";
  } else {
    for (const auto& f : c.flips) {
      if (state_of_run(c.path, f) == RunState::corrupted) {
        return Error{c.path + " still holds corrupted bytes at offset " + std::to_string(f.offset) +
                     " after they were written back; the copy is kept at " + c.copy};
      }
    }
    report.said = c.path + " changed since the corruption (its owner wrote to it): wrote back the original bytes of " +
                  count_text(report.runs_restored, "run(s) that still held the corrupted ones") + ", " +
                  count_text(report.runs_original, "run(s) already held their original bytes") + ", " +
                  count_text(report.runs_rewritten, "run(s) rewritten by the owner left as they are") +
                  "; no corrupted run is left, but the file is not equal to the copy (newer data of its owner)";
  }
  remove_copy(c);
  return report;
}

}  // namespace chaosplus::faults
