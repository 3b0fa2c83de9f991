#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "net/socket.h"
#include "probes/expectation.h"
#include "probes/probe.h"

extern char** environ;

namespace chaosplus::probes {
namespace {

// glibc 2.36's <sys/pidfd.h> lacks extern "C" guards, so the system calls are made directly.
int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxOutput = 1024 * 1024;
// After the command exits, output still in flight is read for this long at most: a background
// process it left behind may hold the pipe open forever.
constexpr auto kDrainAfterExit = std::chrono::milliseconds(200);

// Owns the posix_spawn attribute objects for one launch.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The command has exited (and stays a zombie, so its pid and group id cannot be reused yet).
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return exit_code_of(status);
}

// Last line-ish part of the output, for failure details.
std::string excerpt(const std::string& output) {
  std::string_view text(output);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty()) return {};
  constexpr std::size_t kMax = 200;
  std::string shown(text.size() > kMax ? text.substr(text.size() - kMax) : text);
  std::replace(shown.begin(), shown.end(), '\n', ' ');
  return " (output: " + std::string(text.size() > kMax ? "..." : "") + shown + ")";
}

}  // namespace

Outcome run_command(const spec::CommandProbe& probe, const spec::Expectation& expect) {
  Outcome outcome;
  const auto start = Clock::now();
  const auto deadline = start + probe.timeout;
  if (probe.argv.empty()) {
    outcome.detail = "the command is empty";
    return outcome;
  }
  const std::string& name = probe.argv.front();

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    outcome.detail = "cannot run '" + name + "': pipe: " + std::strerror(errno);
    return outcome;
  }
  net::Fd out_read(pipe_fds[0]);
  net::Fd out_write(pipe_fds[1]);
  // The child's end must block like an ordinary stdout.
  ::fcntl(out_write.get(), F_SETFL, ::fcntl(out_write.get(), F_GETFL) & ~O_NONBLOCK);

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, out_write.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&setup.attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attributes, 0);  // its own group, so a timeout kills what it started
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  posix_spawnattr_setsigdefault(&setup.attributes, &all);

  std::vector<std::string> args = probe.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = 0;
  // posix_spawn (vfork-like) reports exec failures and does not copy the runner's page tables.
  if (const int rc = ::posix_spawnp(&pid, argv[0], &setup.actions, &setup.attributes, argv.data(), environ);
      rc != 0) {
    outcome.latency = Clock::now() - start;
    outcome.status = 127;
    outcome.detail = "cannot run '" + name + "': " + std::strerror(rc);
    return outcome;
  }
  out_write.reset();
  net::Fd pidfd(open_pidfd(pid));

  std::string output;
  bool eof = false;
  bool exited = false;
  bool timed_out = false;
  int poll_error = 0;
  Clock::time_point exited_at;
  char buf[16 * 1024];
  while (true) {
    if (!exited && has_exited(pid)) {
      exited = true;
      exited_at = Clock::now();
    }
    const auto now = Clock::now();
    if (exited && (eof || now >= exited_at + kDrainAfterExit)) break;
    if (!exited && now >= deadline) {
      ::kill(-pid, SIGKILL);  // the leader is not reaped yet, so the group id is still ours
      timed_out = true;
      break;
    }
    const auto until = exited ? exited_at + kDrainAfterExit : deadline;
    // At most a second per wait (keeps the int conversion safe); without a pidfd, exit is noticed by polling.
    auto wait = std::min<long long>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count(), 1000);
    if (!exited && pidfd.get() < 0) wait = std::min<long long>(wait, 10);
    pollfd fds[2];
    nfds_t count = 0;
    if (!eof) fds[count++] = {out_read.get(), POLLIN, 0};
    if (!exited && pidfd.get() >= 0) fds[count++] = {pidfd.get(), POLLIN, 0};
    if (count == 0) {
      ::poll(nullptr, 0, static_cast<int>(std::min<long long>(wait, 10)));
      continue;
    }
    if (::poll(fds, count, static_cast<int>(std::max<long long>(wait, 0))) < 0 && errno != EINTR) {
      poll_error = errno;
      if (!exited) ::kill(-pid, SIGKILL);  // reaping below must not wait for a command we no longer watch
      break;
    }
    while (!eof) {
      const ssize_t n = ::read(out_read.get(), buf, sizeof buf);
      if (n > 0) {
        const auto room = kMaxOutput - std::min(kMaxOutput, output.size());
        output.append(buf, std::min(room, static_cast<std::size_t>(n)));  // the rest is drained, not kept
        continue;
      }
      if (n == 0) eof = true;
      if (n < 0 && errno == EINTR) continue;
      break;
    }
  }
  outcome.status = reap(pid);
  // The command's own duration: the drain after its exit is ours, not its.
  outcome.latency = (exited ? exited_at : Clock::now()) - start;
  if (timed_out) {
    outcome.detail = "timed out after " + format_duration(probe.timeout) + excerpt(output);
    return outcome;
  }
  if (poll_error != 0) {
    outcome.detail = "waiting for '" + name + "' failed: " + std::strerror(poll_error);
    return outcome;
  }
  outcome.detail = judge_command(expect, outcome.status, output, outcome.latency);
  if (!outcome.detail.empty() && outcome.detail.starts_with("exit code")) outcome.detail += excerpt(output);
  outcome.ok = outcome.detail.empty();
  return outcome;
}

}  // namespace chaosplus::probes
