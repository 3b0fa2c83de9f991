#include "faults/disk_fill.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kChunk = kGiB;  // one file at most: a crash leaves whole, recorded files
constexpr int kMaxFiles = 4096;         // 4 TiB; the loop also ends when a file adds nothing

std::string mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / static_cast<double>(kMiB));
  return text;
}

// Makes the file `path` hold `bytes` of the file system: fallocate, else zeros written.
Status allocate(const std::string& path, std::uint64_t bytes, HaltSwitch& halt) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{"cannot create " + path + ": " + std::strerror(errno)};
  Status result = ok_status();
  if (::fallocate(fd, 0, 0, static_cast<off_t>(bytes)) != 0) {
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
      std::vector<char> zeros(kMiB, 0);
      for (std::uint64_t done = 0; done < bytes && !halt.triggered();) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), bytes - done));
        const ssize_t wrote = ::write(fd, zeros.data(), n);
        if (wrote <= 0) {
          if (wrote < 0 && errno == EINTR) continue;
          if (errno != ENOSPC) result = Error{"cannot write " + path + ": " + std::strerror(errno)};
          break;
        }
        done += static_cast<std::uint64_t>(wrote);
      }
      if (::fsync(fd) != 0 && errno != ENOSPC) result = Error{"cannot sync " + path + ": " + std::strerror(errno)};
    } else if (errno != ENOSPC) {  // full already (another writer): the loop sees the space and stops
      result = Error{"fallocate " + path + ": " + std::strerror(errno)};
    }
  }
  ::close(fd);
  return result;
}

struct Removal {
  std::uint64_t removed = 0;
  std::vector<std::string> foreign;  // files in the folder the fault did not make
};

// Removes the recorded files (only those) and the folder, when nothing else is in it.
Result<Removal> remove_fill(const std::string& folder, const std::vector<std::string>& files) {
  Removal r;
  for (const std::string& name : files) {
    if (name.find('/') != std::string::npos || name.empty()) continue;  // a record names files in the folder
    const std::string path = folder + "/" + name;
    if (::unlink(path.c_str()) == 0) ++r.removed;
    else if (errno != ENOENT) return Error{"cannot remove " + path + ": " + std::strerror(errno)};
  }
  if (::rmdir(folder.c_str()) != 0 && errno != ENOENT) {
    if (errno != ENOTEMPTY && errno != EEXIST) return Error{"cannot remove " + folder + ": " + std::strerror(errno)};
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(folder, ec)) r.foreign.push_back(e.path().string());
  }
  return r;
}

// Free space right after a removal may lag while the file system commits it: waits a little for
// it to reach `expected` (within `tolerance`), then returns what it reads.
std::uint64_t settled_free(const std::string& path, std::uint64_t expected, std::uint64_t tolerance) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    auto fs = fs_space(path);
    if (!fs) return 0;
    if (fs->free + tolerance >= expected || std::chrono::steady_clock::now() > deadline) return fs->free;
    ::sync();
    std::this_thread::sleep_for(50ms);  // polling the file system's counters, with the deadline above
  }
}

std::string record_of(const std::string& target, const std::string& path, const std::string& folder,
                      const std::vector<std::string>& files, const FsSpace& before, std::uint64_t leave) {
  return nlohmann::json{{"target", target},           {"path", path},        {"folder", folder}, {"files", files},
                        {"free_before", before.free}, {"size", before.size}, {"leave", leave}}
      .dump();
}

class DiskFill final : public Fault {
 public:
  DiskFill(std::string target, std::string path, std::string folder, FillGoal goal, FsSpace before, bool root)
      : target_(std::move(target)),
        path_(std::move(path)),
        folder_(std::move(folder)),
        goal_(goal),
        before_(before),
        root_(root),
        leave_(goal.leave(before)) {}

  std::string kind() const override { return "file.disk_fill"; }
  std::string summary() const override {
    return "fill the file system of " + path_ + " for " + target_ + " to " + mib(leave_) + " free (was " +
           mib(before_.free) + ", files in " + folder_ + ")";
  }
  std::string record() const override { return record_of(target_, path_, folder_, files_, before_, leave_); }
  std::map<std::string, std::int64_t> reach() const override {
    return {{"free_before", static_cast<std::int64_t>(before_.free)},
            {"free_during", static_cast<std::int64_t>(free_during_)},
            {"free_after", static_cast<std::int64_t>(free_after_)},
            {"files", static_cast<std::int64_t>(files_.size())}};
  }

  Status inject(HaltSwitch& halt) override {
    auto now = fs_space(path_);
    if (!now) return Error{now.error()};
    before_ = *now;  // the space when it starts, which revert checks against
    leave_ = goal_.leave(before_);
    if (root_ && leave_ < root_floor(before_, goal_.root_floor)) {
      return Error{"disk_fill on " + path_ + ": would leave " + mib(leave_) + " on the root file system, below its " +
                   mib(root_floor(before_, goal_.root_floor)) + " safety floor"};
    }
    if (auto s = record_changed(); !s) return Error{"cannot update the ledger, nothing made: " + s.error()};
    if (::mkdir(folder_.c_str(), 0700) != 0) return Error{"cannot make " + folder_ + ": " + std::strerror(errno)};
    std::uint64_t last_free = before_.free + 1;
    for (int i = 0; i < kMaxFiles && !halt.triggered(); ++i) {
      auto fs = fs_space(path_);
      if (!fs) return Error{fs.error()};
      free_during_ = fs->free;
      if (fs->free <= leave_ + fs->block || fs->free >= last_free) break;  // there, or a file added nothing
      last_free = fs->free;
      char name[32];
      std::snprintf(name, sizeof name, "fill-%04d", i);
      files_.emplace_back(name);
      if (auto s = record_changed(); !s) return Error{"cannot update the ledger: " + s.error()};
      if (auto s = allocate(folder_ + "/" + name, std::min(kChunk, fs->free - leave_), halt); !s) return s;
    }
    if (auto fs = fs_space(path_)) free_during_ = fs->free;
    if (halt.triggered()) return Error{"halted while filling " + path_};
    return ok_status();
  }

  Status revert(HaltSwitch&) override {
    auto removed = remove_fill(folder_, files_);
    if (!removed) return Error{removed.error()};
    if (!removed->foreign.empty()) {
      return Error{folder_ + " holds files the fault did not make (" + removed->foreign.front() +
                   ", ...): its own are removed, the folder is left"};
    }
    const auto tolerance = static_cast<std::uint64_t>(std::ceil(static_cast<double>(before_.free) * 0.01));
    free_after_ = settled_free(path_, before_.free, tolerance);
    const std::uint64_t gap = free_after_ > before_.free ? free_after_ - before_.free : before_.free - free_after_;
    if (gap > tolerance) {
      return Error{"free space on " + path_ + " is " + mib(free_after_) + " after the fill was removed, " +
                   mib(before_.free) + " before: more than 1 % apart (another writer?)"};
    }
    return ok_status();
  }

 private:
  std::string target_;
  std::string path_;
  std::string folder_;
  FillGoal goal_;
  FsSpace before_;
  bool root_;
  std::uint64_t leave_;
  std::vector<std::string> files_;
  std::uint64_t free_during_ = 0;
  std::uint64_t free_after_ = 0;
};

}  // namespace

Result<FsSpace> fs_space(const std::string& path) {
  struct statvfs v {};
  if (::statvfs(path.c_str(), &v) != 0) return Error{"statvfs " + path + ": " + std::strerror(errno)};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{"stat " + path + ": " + std::strerror(errno)};
  return FsSpace{st.st_dev, static_cast<std::uint64_t>(v.f_blocks) * v.f_frsize,
                 static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize, v.f_frsize};
}

bool on_root_fs(const std::string& path) {
  struct stat a {
  }, b{};
  return ::stat(path.c_str(), &a) == 0 && ::stat("/", &b) == 0 && a.st_dev == b.st_dev;
}

std::uint64_t root_floor(const FsSpace& fs, std::uint64_t given) {
  if (given != 0) return std::max(given, kRootAbsoluteFloor);
  return std::max(kRootFloor, static_cast<std::uint64_t>(static_cast<double>(fs.size) * kRootFloorShare));
}

std::uint64_t FillGoal::leave(const FsSpace& fs) const {
  if (leave_share >= 0) return static_cast<std::uint64_t>(static_cast<double>(fs.size) * leave_share);
  if (fill > 0) return fs.free > fill ? fs.free - fill : 0;
  return leave_free;
}

Result<std::unique_ptr<Fault>> make_disk_fill(const std::string& target, const std::string& folder,
                                              const FillGoal& goal) {
  std::error_code ec;
  const auto real = std::filesystem::canonical(folder, ec);
  if (ec || !std::filesystem::is_directory(real, ec)) {
    return Error{"disk_fill: " + folder + " is not an existing folder" + (ec ? ": " + ec.message() : "")};
  }
  auto fs = fs_space(real.string());
  if (!fs) return Error{fs.error()};
  const bool root = on_root_fs(real.string());
  const std::uint64_t leave = goal.leave(*fs);
  if (root && leave < root_floor(*fs, goal.root_floor)) {
    return Error{"disk_fill on " + folder + " would leave " + mib(leave) + " on the root file system, below its " +
                 mib(root_floor(*fs, goal.root_floor)) + " safety floor (root_floor lowers it, to 256 MiB at least)"};
  }
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string own = real.string() + (real.string() == "/" ? "" : "/") + "chaosplus-fill-" +
                          std::to_string(::getpid()) + "-" +
                          std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  return std::unique_ptr<Fault>(std::make_unique<DiskFill>(target, real.string(), own, goal, *fs, root));
}

Status undo_disk_fill(std::string_view record) {
  const auto r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object() || !r.contains("folder")) {
    return Error{"unreadable ledger record: " + std::string(record)};
  }
  const std::string folder = r.value("folder", std::string());
  std::vector<std::string> files;
  if (r.contains("files") && r["files"].is_array()) {
    for (const auto& f : r["files"]) {
      if (f.is_string()) files.push_back(f.get<std::string>());
    }
  }
  if (folder.empty() || folder.find("/chaosplus-fill-") == std::string::npos) {
    return Error{"the record names no fill folder of chaosplus: " + folder};
  }
  auto removed = remove_fill(folder, files);
  if (!removed) return Error{removed.error()};
  if (!removed->foreign.empty()) {
    return Error{folder + " holds files the fault did not make (" + removed->foreign.front() +
                 ", ...): the recorded ones are removed, the folder is left for you to look at"};
  }
  return ok_status();
}

}  // namespace chaosplus::faults
