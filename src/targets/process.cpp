#include "targets/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

namespace chaosplus::targets {
namespace {

// glibc 2.36's <sys/pidfd.h> lacks extern "C" guards, so the system calls are made directly.
int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int pidfd_signal(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

struct Stat {
  char state = 0;
  int pgrp = 0;
  unsigned long long start_time = 0;
};

// Small /proc files are read with plain syscalls: this runs often (liveness polls) and must not throw.
std::string read_small_file(const std::string& path) {
  std::string content;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return content;
  char buf[1024];
  while (content.size() < 64 * 1024) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    content.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return content;
}

// /proc/<pid>/stat: "pid (comm) state ppid pgrp ... starttime(22) ..."; comm may hold spaces and
// parentheses, so the fields are counted from the last ')'.
std::optional<Stat> read_stat(int pid) {
  if (pid <= 0) return std::nullopt;
  const std::string text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::string_view rest(text);
  rest.remove_prefix(close + 1);
  Stat stat;
  int field = 2;  // the ')' ends field 2
  while (!rest.empty() && field < 22) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = rest.find(' ');
    const std::string token(rest.substr(0, end));
    ++field;
    if (field == 3) stat.state = token.empty() ? 0 : token[0];
    if (field == 5) stat.pgrp = std::atoi(token.c_str());
    if (field == 22) stat.start_time = std::strtoull(token.c_str(), nullptr, 10);
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  if (field < 22 || stat.state == 0) return std::nullopt;
  return stat;
}

bool is_dead_state(char state) { return state == 'Z' || state == 'X' || state == 'x'; }

// Reaps `pid` if it is our exited child; harmless (ECHILD) for anyone else's.
void reap_if_child(int pid) {
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) < 0 && errno == EINTR) {
  }
}

// The pid leads its own process group, and that group is not ours (signalling it would hit us).
bool leads_foreign_group(int pid) {
  const auto stat = read_stat(pid);
  return stat && stat->pgrp == pid && ::getpgrp() != pid;
}

bool gone(const ProcessId& id, bool whole_group) {
  return !is_alive(id) && (!whole_group || group_members(id.pid).empty());
}

// Polls `condition` every 10ms until it holds or `timeout` passes.
template <typename Condition>
bool wait_for_condition(Condition condition, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ::poll(nullptr, 0, 10);  // polling interval of a deadline-bounded wait
  }
}

std::string join_pids(const std::vector<int>& pids) {
  std::string out;
  for (int p : pids) out += (out.empty() ? "" : ", ") + std::to_string(p);
  return out;
}

}  // namespace

Result<unsigned long long> process_start_time(int pid) {
  const auto stat = read_stat(pid);
  if (!stat) return Error{"no process with pid " + std::to_string(pid)};
  return stat->start_time;
}

Result<ProcessId> identify(int pid) {
  const auto stat = read_stat(pid);
  if (!stat || is_dead_state(stat->state)) return Error{"no running process with pid " + std::to_string(pid)};
  return ProcessId{pid, stat->start_time};
}

char process_state(int pid) {
  const auto stat = read_stat(pid);
  return stat ? stat->state : 0;
}

std::string process_name(int pid) {
  if (pid <= 0) return {};
  std::string comm = read_small_file("/proc/" + std::to_string(pid) + "/comm");
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

std::string describe(const ProcessId& id) {
  const std::string name = process_name(id.pid);
  return "pid " + std::to_string(id.pid) + (name.empty() ? "" : " (" + name + ")");
}

bool is_alive(const ProcessId& id) {
  const auto stat = read_stat(id.pid);
  if (!stat || stat->start_time != id.start_time) return false;
  if (is_dead_state(stat->state)) {
    // A zombie still holds its pid, so this cannot reap a different process.
    reap_if_child(id.pid);
    return false;
  }
  return true;
}

std::vector<int> group_members(int pgid) {
  std::vector<int> members;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return members;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    const auto stat = read_stat(static_cast<int>(pid));
    if (stat && stat->pgrp == pgid && !is_dead_state(stat->state)) members.push_back(static_cast<int>(pid));
  }
  ::closedir(dir);
  return members;
}

Status send_signal(const ProcessId& id, int signal, SignalScope scope) {
  const std::string who = describe(id);
  // A pidfd pins the process we checked: if the pid is reused after the check, the signal fails
  // instead of reaching a stranger.
  const int pidfd = open_pidfd(id.pid);
  if (pidfd < 0 && errno == ESRCH) return Error{"process " + std::to_string(id.pid) + " is gone"};
  const auto stat = read_stat(id.pid);
  auto fail = [&](std::string message) -> Status {
    if (pidfd >= 0) ::close(pidfd);
    return Error{std::move(message)};
  };
  if (!stat) return fail("process " + std::to_string(id.pid) + " is gone");
  if (stat->start_time != id.start_time) {
    return fail("pid " + std::to_string(id.pid) + " now belongs to another process (" + process_name(id.pid) +
                "); not signalling it");
  }
  if (is_dead_state(stat->state)) {
    reap_if_child(id.pid);
    return fail("process " + std::to_string(id.pid) + " has exited");
  }
  int rc = 0;
  if (scope == SignalScope::group && leads_foreign_group(id.pid)) {
    rc = ::kill(-id.pid, signal);
  } else if (pidfd >= 0) {
    rc = pidfd_signal(pidfd, signal);
  } else {
    rc = ::kill(id.pid, signal);
  }
  const int err = errno;
  if (pidfd >= 0) ::close(pidfd);
  if (rc != 0) {
    if (err == ESRCH) return Error{"process " + std::to_string(id.pid) + " is gone"};
    return Error{"cannot send " + signal_name(signal) + " to " + who + ": " + std::strerror(err)};
  }
  return ok_status();
}

Status stop(const ProcessId& id, Duration grace) {
  if (!is_alive(id)) return ok_status();
  const std::string who = describe(id);
  const bool whole_group = leads_foreign_group(id.pid);

  // A stopped process keeps SIGTERM pending until it is continued, hence SIGCONT right after.
  if (auto sent = send_signal(id, SIGTERM); !sent && is_alive(id)) return sent;
  (void)send_signal(id, SIGCONT);
  if (wait_for_condition([&] { return gone(id, whole_group); }, grace)) return ok_status();

  if (is_alive(id)) {
    if (auto sent = send_signal(id, SIGKILL); !sent && is_alive(id)) return sent;
  } else if (whole_group) {
    // The leader left but group members stay; their presence keeps the group id from being reused.
    ::kill(-id.pid, SIGKILL);
  }
  if (wait_for_condition([&] { return gone(id, whole_group); }, std::chrono::seconds(5))) return ok_status();
  if (is_alive(id)) return Error{who + " is still running after SIGKILL"};
  return Error{"members of the process group of " + who + " are still running after SIGKILL: pids " +
               join_pids(group_members(id.pid))};
}

Status stop_group(const ProcessId& leader, Duration grace) {
  if (auto s = stop(leader, grace); !s) return s;
  // The pid now used by another process (possible only once the leader's group was empty): its
  // group is not what the leader left. The leader itself may still be a zombie nobody reaped yet.
  if (leader.pid <= 0) return ok_status();
  if (const auto stat = read_stat(leader.pid); stat && stat->start_time != leader.start_time) return ok_status();
  if (group_members(leader.pid).empty()) return ok_status();
  ::kill(-leader.pid, SIGKILL);
  if (wait_for_condition([&] { return group_members(leader.pid).empty(); }, std::chrono::seconds(5))) {
    return ok_status();
  }
  return Error{"members of the process group of pid " + std::to_string(leader.pid) +
               " are still running after SIGKILL: pids " + join_pids(group_members(leader.pid))};
}

}  // namespace chaosplus::targets
