#pragma once
// The run's journal: every event as one JSON object per line, written as it happens (a crash
// leaves everything up to the crash on disk) and synced when the run ends. Creating it also makes
// the run's logs folder beside it. Both are always new and owner-only: an existing file is never
// truncated and a symbolic link is never followed, so a journal path cannot be aimed at another file.
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/result.h"

namespace chaosplus::runner {

class Journal {
 public:
  // `path` as the user typed it (on the command line): anywhere; missing folders are made 0700.
  static Result<Journal> create(const std::string& path);
  // `relative` below the folder `base` (the runs folder): refused when absolute or with a '..'
  // part, and no folder on the way below `base` may be a symbolic link, so the files stay in `base`.
  static Result<Journal> create_under(const std::string& base, const std::string& relative);
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&&) = delete;
  Journal(const Journal&) = delete;
  ~Journal();

  void write(const Event& event);
  void sync();
  const std::string& path() const { return path_; }
  const std::string& logs_dir() const { return logs_dir_; }  // "<folder>/<journal stem>.logs"

 private:
  static Result<Journal> create_in(int folder, const std::string& folder_path, const std::string& file);
  Journal(int fd, std::string path, std::string logs_dir)
      : fd_(fd), path_(std::move(path)), logs_dir_(std::move(logs_dir)) {}
  int fd_ = -1;
  std::string path_;
  std::string logs_dir_;
};

// One journal line back into an event: its type, elapsed time and fields (numbers written as
// integers come back as integers). Errors say what the line lacks.
Result<Event> parse_journal_line(std::string_view line);
// Every event of a journal file, in order. Errors name the file and line. A last line without its
// newline (a run killed while writing it) is left out, as it may be cut short.
Result<std::vector<Event>> read_journal(const std::string& path);

}  // namespace chaosplus::runner
