#include "targets/program.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "net/socket.h"
#include "targets/gated_child.h"

extern char** environ;

namespace chaosplus::targets {
namespace {

using Clock = std::chrono::steady_clock;

// After the program exits, output still held open by a process it left behind is read for this long
// at most.
constexpr auto kDrainAfterExit = std::chrono::milliseconds(200);

// glibc 2.36's <sys/pidfd.h> lacks extern "C" guards, so the system call is made directly.
int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// The input as a memory file: the program can read it at its own pace, we never block or get
// SIGPIPE writing it, and nothing has to be pumped while waiting.
Result<net::Fd> input_file(std::string_view input) {
  net::Fd fd(::memfd_create("chaosplus-program-input", MFD_CLOEXEC));
  if (!fd.valid()) return Error{std::string("memfd_create: ") + std::strerror(errno)};
  while (!input.empty()) {
    const ssize_t n = ::write(fd.get(), input.data(), input.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{std::string("writing the program's input: ") + std::strerror(errno)};
    input.remove_prefix(static_cast<std::size_t>(n));
  }
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

// A pipe whose read end is ours (non-blocking) and whose write end blocks like an ordinary stdout.
Result<std::pair<net::Fd, net::Fd>> output_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return Error{std::string("pipe: ") + std::strerror(errno)};
  ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) & ~O_NONBLOCK);
  return std::pair{net::Fd(fds[0]), net::Fd(fds[1])};
}

// One output stream being collected.
struct Stream {
  net::Fd fd;
  std::string* text = nullptr;
  bool open() const { return fd.valid(); }
};

// Reads what is there now; closes the stream at end of file.
void read_available(Stream& stream, std::size_t max_output) {
  std::array<char, 16 * 1024> buf{};
  while (stream.open()) {
    const ssize_t n = ::read(stream.fd.get(), buf.data(), buf.size());
    if (n > 0) {
      const std::size_t room = max_output - std::min(max_output, stream.text->size());
      stream.text->append(buf.data(), std::min(room, static_cast<std::size_t>(n)));  // the rest is dropped
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) stream.fd.reset();
    return;
  }
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The program has exited; it stays a zombie, so its pid and group id cannot be reused yet.
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

}  // namespace

std::string find_program(const std::string& name, bool search_sbin) {
  if (name.empty()) return {};
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  if (search_sbin) {
    // The network tools live in sbin, which is not on every PATH.
    for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
      std::string path = std::string(dir) + "/" + name;
      if (::access(path.c_str(), X_OK) == 0) return path;
    }
  }
  const char* path_env = std::getenv("PATH");
  std::string_view rest = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
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

std::string describe_command(std::span<const std::string> argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

std::string output_excerpt(const std::string& output) {
  std::string_view text(output);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty()) return {};
  constexpr std::size_t kMax = 200;
  std::string shown(text.size() > kMax ? text.substr(text.size() - kMax) : text);
  std::replace(shown.begin(), shown.end(), '\n', ' ');
  return " (output: " + std::string(text.size() > kMax ? "..." : "") + shown + ")";
}

Result<ProgramRun> run_program(std::span<const std::string> argv, const ProgramOptions& options) {
  if (argv.empty()) return Error{"the command is empty"};
  const std::string& name = argv.front();
  const std::string path = find_program(name, options.search_sbin);
  if (path.empty()) {
    return Error{"cannot run '" + name + "': not found (looked in " +
                 (options.search_sbin ? "sbin, bin and PATH" : "PATH") + ")"};
  }

  net::Fd input;
  if (!options.input.empty()) {
    auto file = input_file(options.input);
    if (!file) return Error{"cannot run '" + name + "': " + file.error()};
    input = std::move(*file);
  }
  auto out_pipe = output_pipe();
  if (!out_pipe) return Error{"cannot run '" + name + "': " + out_pipe.error()};
  std::pair<net::Fd, net::Fd> err_pipe;
  if (!options.merge_stderr) {
    auto made = output_pipe();
    if (!made) return Error{"cannot run '" + name + "': " + made.error()};
    err_pipe = std::move(*made);
  }

  net::Fd devnull;
  if (!input.valid()) {
    devnull = net::Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!devnull.valid()) return Error{"cannot run '" + name + "': cannot open /dev/null: " + std::strerror(errno)};
  }
  ChildPlan plan;
  plan.path = path;
  plan.argv.assign(argv.begin(), argv.end());
  plan.argv.front() = path;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) plan.env.emplace_back(*e);
  plan.stdin_fd = input.valid() ? input.get() : devnull.get();
  plan.stdout_fd = out_pipe->second.get();
  plan.stderr_fd = options.merge_stderr ? out_pipe->second.get() : err_pipe.second.get();
  plan.new_session = false;  // its own group, so what it starts can be killed with it
  plan.die_with_parent = true;

  const auto start = Clock::now();
  auto started = start_gated(plan, options.before_exec);
  if (!started) return Error{"cannot run '" + name + "': " + started.error()};
  const pid_t pid = started->pid;
  out_pipe->second.reset();
  err_pipe.second.reset();
  input.reset();
  devnull.reset();
  net::Fd pidfd(open_pidfd(pid));

  ProgramRun run;
  std::array<Stream, 2> streams{Stream{std::move(out_pipe->first), &run.out},
                                Stream{std::move(err_pipe.first), &run.err}};
  const auto all_closed = [&] { return !streams[0].open() && !streams[1].open(); };
  const auto deadline = start + options.timeout;
  bool exited = false;
  Clock::time_point ended;
  while (true) {
    if (!exited && has_exited(pid)) {
      exited = true;
      ended = Clock::now();
      // The zombie leader keeps the group id ours, so this reaches only what it left behind.
      if (options.kill_leftovers) ::kill(-pid, SIGKILL);
    }
    const auto now = Clock::now();
    if (exited && (all_closed() || now >= ended + kDrainAfterExit)) break;
    if (!exited && now >= deadline) {
      ::kill(-pid, SIGKILL);  // the leader is not reaped yet, so the group id is still ours
      ::kill(pid, SIGKILL);   // and itself, should it have left its group
      run.timed_out = true;
      ended = now;
      break;
    }
    const auto until = exited ? ended + kDrainAfterExit : deadline;
    // At most a second per wait (keeps the int conversion safe); without a pidfd, exit is noticed by polling.
    auto wait = std::min<long long>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count(), 1000);
    if (!exited && !pidfd.valid()) wait = std::min<long long>(wait, 10);
    std::array<pollfd, 3> fds{};
    nfds_t count = 0;
    for (const Stream& stream : streams) {
      if (stream.open()) fds[count++] = {stream.fd.get(), POLLIN, 0};
    }
    if (!exited && pidfd.valid()) fds[count++] = {pidfd.get(), POLLIN, 0};
    if (count == 0) {
      ::poll(nullptr, 0, static_cast<int>(std::clamp<long long>(wait, 0, 10)));
      continue;
    }
    if (::poll(fds.data(), count, static_cast<int>(std::max<long long>(wait, 0))) < 0 && errno != EINTR) {
      const int error = errno;
      if (!exited) ::kill(-pid, SIGKILL);  // reaping below must not wait for a program we no longer watch
      reap(pid);
      return Error{"waiting for '" + name + "' failed: " + std::strerror(error)};
    }
    for (Stream& stream : streams) read_available(stream, options.max_output);
  }
  for (Stream& stream : streams) read_available(stream, options.max_output);  // what a killed program wrote
  run.exit_code = reap(pid);
  run.duration = ended - start;
  return run;
}

}  // namespace chaosplus::targets
