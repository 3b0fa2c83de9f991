#include "runner/output_paths.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <utility>

namespace chaosplus::runner {

std::string run_time_stamp(std::chrono::system_clock::time_point time) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time - seconds).count();
  const std::time_t t = std::chrono::system_clock::to_time_t(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(millis));
  return stamp;
}

std::string make_run_id(std::chrono::system_clock::time_point start) {
  // The kernel's randomness, not the pid: two runs in one process, or in two containers with the
  // same pid, still differ. 24 bits, and the journal's O_EXCL catches the rare collision.
  static thread_local std::random_device random;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", static_cast<unsigned>(random() & 0xffffffu));
  return run_time_stamp(start) + "-" + suffix;
}

std::string expand_output_path(const std::string& pattern, const std::string& name,
                               std::chrono::system_clock::time_point time, const std::string& run_id) {
  const std::pair<std::string, std::string> values[] = {
      {"{name}", name}, {"{time}", run_time_stamp(time)}, {"{run}", run_id}};
  std::string out;
  for (std::size_t i = 0; i < pattern.size();) {
    bool replaced = false;
    for (const auto& [key, value] : values) {
      if (pattern.compare(i, key.size(), key) == 0) {
        out += value;
        i += key.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += pattern[i++];
  }
  return out;
}

Status create_private_directories(const std::string& path) {
  std::filesystem::path so_far;
  for (const auto& part : std::filesystem::path(path)) {
    so_far /= part;
    if (part.empty() || part == "/" || part == "." || part == "..") continue;
    if (::mkdir(so_far.c_str(), 0700) == 0) continue;
    if (errno != EEXIST) return Error{"cannot create the folder " + so_far.string() + ": " + std::strerror(errno)};
    struct stat st {};
    if (::stat(so_far.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Error{"cannot create the folder " + path + ": " + so_far.string() + " exists and is not a folder"};
    }
  }
  return ok_status();
}

}  // namespace chaosplus::runner
