#include "faults/system_tool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>

extern char** environ;

namespace chaosplus::faults {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxOutput = 16 * 1024 * 1024;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

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

// Memory files instead of pipes: the child can never block on a full pipe, we never get SIGPIPE
// writing its input, and there is nothing to pump while waiting for it.
Result<int> memory_file(const char* name) {
  const int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return Error{std::string("memfd_create: ") + std::strerror(errno)};
  return fd;
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{std::string("write: ") + std::strerror(errno)};
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_status();
}

std::string read_back(int fd) {
  std::string out;
  if (::lseek(fd, 0, SEEK_SET) != 0) return out;
  std::array<char, 64 * 1024> buf{};
  while (out.size() < kMaxOutput) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  return out;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for `pid` until `deadline`; the exit status, or nothing on timeout (the child is not reaped).
std::optional<int> wait_for_exit(pid_t pid, Clock::time_point deadline) {
  // glibc 2.36's <sys/pidfd.h> lacks extern "C" guards, so the system call is made directly.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return exit_code_of(status);
    if (r < 0 && errno != EINTR) return -1;
    const auto now = Clock::now();
    if (now >= deadline) return std::nullopt;
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    if (pidfd.get() < 0) {
      wait = std::min<long long>(wait, 5);  // no pidfd: poll the exit
      ::poll(nullptr, 0, static_cast<int>(wait));
      continue;
    }
    pollfd p{pidfd.get(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(wait));
  }
}

}  // namespace

std::string find_tool(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  // The network tools live in sbin, which is not on every PATH.
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    std::string path = std::string(dir) + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  const char* path_env = std::getenv("PATH");
  std::string_view rest = path_env != nullptr ? path_env : "";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (dir.empty()) continue;
    std::string path = dir + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

std::string describe_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

Result<ToolOutput> run_tool(const std::vector<std::string>& argv, std::string_view input, Duration timeout) {
  if (argv.empty()) return Error{"no command to run"};
  const std::string program = find_tool(argv.front());
  if (program.empty()) return Error{"'" + argv.front() + "' is not installed (looked in sbin, bin and PATH)"};

  auto in = memory_file("chaosplus-tool-in");
  auto out = memory_file("chaosplus-tool-out");
  auto err = memory_file("chaosplus-tool-err");
  if (!in) return Error{in.error()};
  if (!out) return Error{out.error()};
  if (!err) return Error{err.error()};
  Fd in_fd(*in), out_fd(*out), err_fd(*err);
  if (auto s = write_all(in_fd.get(), input); !s) return Error{s.error()};
  ::lseek(in_fd.get(), 0, SEEK_SET);

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, in_fd.get(), 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_fd.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err_fd.get(), 2);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attributes, 0);  // its own group, so a timeout kills all it started
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  posix_spawnattr_setsigdefault(&setup.attributes, &all);

  std::vector<std::string> args = argv;
  args.front() = program;
  std::vector<char*> raw;
  for (auto& a : args) raw.push_back(a.data());
  raw.push_back(nullptr);

  pid_t pid = 0;
  if (const int rc = ::posix_spawn(&pid, raw[0], &setup.actions, &setup.attributes, raw.data(), environ); rc != 0) {
    return Error{"cannot run '" + program + "': " + std::strerror(rc)};
  }
  auto code = wait_for_exit(pid, Clock::now() + timeout);
  if (!code) {
    ::kill(-pid, SIGKILL);  // not reaped yet, so the group id is still ours
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Error{"'" + describe_command(argv) + "' did not finish within " + format_duration(timeout)};
  }
  return ToolOutput{*code, read_back(out_fd.get()), read_back(err_fd.get())};
}

Result<std::string> run_tool_checked(const std::vector<std::string>& argv, std::string_view input, Duration timeout) {
  auto r = run_tool(argv, input, timeout);
  if (!r) return Error{r.error()};
  if (r->exit_code != 0) {
    std::string detail = r->err.empty() ? r->out : r->err;
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
    if (detail.size() > 600) detail = detail.substr(0, 600) + "...";
    return Error{"'" + describe_command(argv) + "' exited with " + std::to_string(r->exit_code) +
                 (detail.empty() ? "" : ": " + detail)};
  }
  return std::move(r->out);
}

}  // namespace chaosplus::faults
