#include "runner/ledger_witness.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "runner/redaction.h"

namespace chaosplus::runner {
namespace {

std::string errno_text() { return std::strerror(errno); }

// Holds flock(2) on a descriptor: appends are exclusive, and a reader never sees half a line of a
// writer that is still at it.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() { ::flock(fd_, LOCK_UN); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

// So that the file itself survives a power loss right after it was created.
void sync_folder(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  int fd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Result<std::string> read_all(int fd) {
  std::string data;
  char buffer[65536];
  if (::lseek(fd, 0, SEEK_SET) < 0) return Error{errno_text()};
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{errno_text()};
    if (n == 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return data;
}

}  // namespace

Result<std::unique_ptr<LedgerWitness>> LedgerWitness::open(const std::string& path) {
  const bool existed = std::filesystem::exists(path);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error{"cannot open the ledger's witness " + path + ": " + errno_text()};
  ::fchmod(fd, 0600);
  if (!existed) sync_folder(path);
  return std::unique_ptr<LedgerWitness>(new LedgerWitness(fd));  // private constructor
}

LedgerWitness::~LedgerWitness() { ::close(fd_); }

Status LedgerWitness::append(const std::string& line) {
  FileLock lock(fd_);
  const std::string data = line + "\n";
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  std::size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd_, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = errno_text();
      // Half a line (a full disk) would glue the next line to it: the witness would read as damaged.
      if (before >= 0) (void)::ftruncate(fd_, before);
      return Error{"cannot write the ledger's witness: " + why};
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return Error{"cannot sync the ledger's witness: " + errno_text()};
  return ok_status();
}

Status LedgerWitness::run(const WitnessedRun& run) {
  return append(nlohmann::json{
      {"run", run.run_id}, {"pid", run.pid}, {"start_time", run.pid_start_time}, {"experiment", run.experiment}}
                    .dump());
}

Status LedgerWitness::entry(const WitnessedEntry& entry) {
  return append(nlohmann::json{{"entry", entry.id},
                               {"run", entry.run_id},
                               {"kind", entry.kind},
                               {"revision", entry.revision},
                               {"record", redact_record(entry.record)}}
                    .dump());
}

Result<WitnessContents> LedgerWitness::read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);  // to inspect, read-only is enough
  if (fd < 0) return Error{"cannot read the ledger's witness " + path + ": " + errno_text()};
  std::string data;
  {
    FileLock lock(fd);
    auto all = read_all(fd);
    if (!all) {
      ::close(fd);
      return Error{"cannot read the ledger's witness " + path + ": " + all.error()};
    }
    data = std::move(all).value();
    // A line without its newline was cut by a crash or power loss while it was written. Its ledger
    // row was committed before it, so dropping the line loses nothing the ledger lacks; appending
    // after it would glue the next line to it.
    if (auto end = data.rfind('\n') + 1; end != data.size()) {
      if (::ftruncate(fd, static_cast<off_t>(end)) == 0) ::fdatasync(fd);
      data.resize(end);
    }
  }
  ::close(fd);

  WitnessContents out;
  std::map<std::int64_t, std::size_t> index;  // entry id -> position in out.entries
  std::size_t line_number = 0;
  for (std::size_t at = 0; at < data.size();) {
    const std::size_t end = data.find('\n', at);
    const std::string_view line(data.data() + at, end - at);
    at = end + 1;
    ++line_number;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    const std::string where = path + ":" + std::to_string(line_number);
    if (j.is_discarded() || !j.is_object()) return Error{where + ": not a witness line: the witness is damaged"};
    try {
      if (j.contains("run") && !j.contains("entry")) {
        out.runs.push_back(WitnessedRun{j.at("run").get<std::string>(), j.value("pid", 0), j.value("start_time", 0ULL),
                                        j.value("experiment", std::string())});
      } else if (j.contains("entry")) {
        WitnessedEntry e{j.at("entry").get<std::int64_t>(), j.at("run").get<std::string>(),
                         j.at("kind").get<std::string>(), j.at("revision").get<std::int64_t>(),
                         j.value("record", std::string())};
        if (auto it = index.find(e.id); it == index.end()) {
          index.emplace(e.id, out.entries.size());
          out.entries.push_back(std::move(e));
        } else if (e.revision >= out.entries[it->second].revision) {
          out.entries[it->second] = std::move(e);
        }
      } else {
        return Error{where + ": neither a run nor an entry: the witness is damaged"};
      }
    } catch (const nlohmann::json::exception&) {
      return Error{where + ": an incomplete witness line: the witness is damaged"};
    }
  }
  return out;
}

}  // namespace chaosplus::runner
