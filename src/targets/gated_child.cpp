#include "targets/gated_child.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace chaosplus::targets {
namespace {

// How long a child named by the test hook waits after its gate opens.
constexpr unsigned kTestStallSeconds = 3;

// What the child reports through the close-on-exec pipe when it cannot exec.
enum class ChildStage : int { session = 1, mounts, redirect, chdir, exec };
struct ChildFailure {
  ChildStage stage;
  int error;
};

// Owns a descriptor in the parent.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Everything the child needs, prepared before fork: after it, only async-signal-safe calls.
struct Prepared {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* cwd;
  int std_fds[3];
  int gate_fd;
  int report_fd;
  bool new_session;
  bool die_with_parent;
  pid_t parent;
  bool stall;
  bool private_mounts;
  const std::pair<const char*, const char*>* binds;  // source, target
  std::size_t bind_count;
};

// Closes every descriptor from 3 up but the ones in `keep`: the child must not hold the gate of a
// sibling forked at the same time, or each could keep the other's gate from reading end of file.
void close_all_but(std::array<int, 5> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(next)) continue;
    if (static_cast<unsigned>(fd) > next) ::close_range(next, static_cast<unsigned>(fd) - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  ::close_range(next, ~0U, 0);
}

[[noreturn]] void child(Prepared p) {
  auto fail = [&p](ChildStage stage) {
    const ChildFailure failure{stage, errno};
    [[maybe_unused]] ssize_t n = ::write(p.report_fd, &failure, sizeof failure);
    ::_exit(127);
  };
  close_all_but({p.std_fds[0], p.std_fds[1], p.std_fds[2], p.gate_fd, p.report_fd});
  if (p.die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != p.parent) ::_exit(126);  // the parent died before the line above
  }
  char go = 0;
  ssize_t n = 0;
  do {
    n = ::read(p.gate_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(126);  // the parent is gone, or changed its mind: nothing runs
  ::close(p.gate_fd);
  if (p.new_session ? ::setsid() < 0 : ::setpgid(0, 0) != 0) fail(ChildStage::session);
  if (p.stall) ::sleep(kTestStallSeconds);
  if (p.private_mounts) {
    // Slave, not private: the host's mounts and unmounts still reach it, so a folder the host
    // unmounts is not kept busy here.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
      fail(ChildStage::mounts);
    }
    for (std::size_t i = 0; i < p.bind_count; ++i) {
      if (::mount(p.binds[i].first, p.binds[i].second, nullptr, MS_BIND, nullptr) != 0) fail(ChildStage::mounts);
    }
  }
  // Sources below 3 would be overwritten by the dup2 calls that follow.
  for (int& fd : p.std_fds) {
    if (fd < 3) fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  }
  for (int i = 0; i < 3; ++i) {
    if (p.std_fds[i] < 0 || ::dup2(p.std_fds[i], i) < 0) fail(ChildStage::redirect);
  }
  if (p.cwd != nullptr && ::chdir(p.cwd) != 0) fail(ChildStage::chdir);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for KILL/STOP
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // the report pipe closes at exec: that is the success signal
  ::execve(p.path, p.argv, p.envp);
  fail(ChildStage::exec);
  ::_exit(127);
}

void reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

bool test_stall_wanted(const std::string& path) {
  const char* hook = std::getenv("CHAOSPLUS_TEST_STALL_AFTER");
  return hook != nullptr && *hook != '\0' &&
         std::string(hook) == std::filesystem::path(path).filename().string() + "-spawn";
}

}  // namespace

Result<ProcessId> start_gated(const ChildPlan& plan, const BeforeExec& before_exec) {
  std::vector<std::string> args = plan.argv;
  std::vector<std::string> env = plan.env;
  const std::vector<char*> argv = c_strings(args);
  const std::vector<char*> envp = c_strings(env);
  const bool stall = test_stall_wanted(plan.path);

  // A socket pair, not a pipe: the go byte is sent with MSG_NOSIGNAL, so a child that died at the
  // gate cannot SIGPIPE the runner.
  int gate[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gate) != 0) {
    return Error{std::string("socketpair: ") + std::strerror(errno)};
  }
  Fd gate_read(gate[0]);
  Fd gate_write(gate[1]);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + std::strerror(errno)};
  Fd report_read(report[0]);
  Fd report_write(report[1]);

  std::vector<std::pair<const char*, const char*>> binds;
  for (const BindMount& b : plan.binds) binds.emplace_back(b.source.c_str(), b.target.c_str());
  const Prepared prepared{plan.path.c_str(),
                          argv.data(),
                          envp.data(),
                          plan.cwd.empty() ? nullptr : plan.cwd.c_str(),
                          {plan.stdin_fd, plan.stdout_fd, plan.stderr_fd},
                          gate[0],
                          report[1],
                          plan.new_session,
                          plan.die_with_parent,
                          ::getpid(),
                          stall,
                          plan.private_mounts,
                          binds.data(),
                          binds.size()};
  const pid_t pid = ::fork();
  if (pid < 0) return Error{std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) child(prepared);

  gate_read.reset();
  report_write.reset();
  // Not reaped before we do, so the /proc entry is there even if the child already exited.
  auto start = process_start_time(pid);
  if (!start) {
    gate_write.reset();
    reap(pid);
    return Error{"started as pid " + std::to_string(pid) + " but it vanished"};
  }
  const ProcessId id{pid, *start};
  if (before_exec) {
    if (auto s = before_exec(id); !s) {
      gate_write.reset();  // end of file at the gate: the child exits without exec
      reap(pid);
      return Error{s.error()};
    }
  }
  const char go = 1;
  ssize_t written = 0;
  do {
    written = ::send(gate_write.get(), &go, 1, MSG_NOSIGNAL);
  } while (written < 0 && errno == EINTR);
  gate_write.reset();
  if (written != 1) {
    const int error = errno;
    reap(pid);
    return Error{std::string("opening the gate: ") + std::strerror(error)};
  }
  if (stall) {
    const std::string line = "chaosplus test hook: " + std::filesystem::path(plan.path).filename().string() + " pid " +
                             std::to_string(pid) + " released\n";
    [[maybe_unused]] ssize_t n = ::write(2, line.data(), line.size());
  }

  ChildFailure failure{};
  ssize_t n = 0;
  do {
    n = ::read(report_read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return id;  // exec closed the report pipe
  reap(pid);
  const std::string reason = std::strerror(failure.error);
  switch (failure.stage) {
    case ChildStage::session: return Error{(plan.new_session ? "setsid: " : "setpgid: ") + reason};
    case ChildStage::mounts: return Error{"its own mount namespace: " + reason};
    case ChildStage::redirect: return Error{"redirecting its output: " + reason};
    case ChildStage::chdir: return Error{"cannot change to directory " + plan.cwd + ": " + reason};
    case ChildStage::exec: return Error{"exec " + plan.path + ": " + reason};
  }
  return Error{reason};
}

}  // namespace chaosplus::targets
