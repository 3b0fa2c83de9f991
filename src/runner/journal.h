#pragma once
// The run's journal: every event as one JSON object per line, written as it happens (a crash
// leaves everything up to the crash on disk) and synced when the run ends.
#include <string>

#include "core/event.h"
#include "core/result.h"

namespace chaosplus::runner {

class Journal {
 public:
  static Result<Journal> create(const std::string& path);  // creates parent folders; truncates
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&&) = delete;
  Journal(const Journal&) = delete;
  ~Journal();

  void write(const Event& event);
  void sync();
  const std::string& path() const { return path_; }

 private:
  Journal(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// "runs/{name}-{time}.jsonl" -> "runs/quickstart-20261125T214500Z.jsonl"
std::string expand_output_path(const std::string& pattern, const std::string& name,
                               std::chrono::system_clock::time_point time);

}  // namespace chaosplus::runner
