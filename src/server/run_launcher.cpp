#include "server/run_launcher.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/event.h"

namespace chaosplus::server {
namespace {

namespace fs = std::filesystem;

// "20261206T161700Z": the journal's name starts with when it was asked for.
std::string stamp() {
  std::string t = format_wall_time(std::chrono::system_clock::now());  // 2026-12-06T16:17:00.123Z
  std::string out;
  for (char c : t.substr(0, 19)) {
    if (c != '-' && c != ':') out += c;
  }
  return out + "Z";
}

}  // namespace

RunLauncher::RunLauncher(LaunchSettings settings) : settings_(std::move(settings)) {
  reaper_ = std::thread([this] { reap_loop(); });
}

RunLauncher::~RunLauncher() {
  stop_.trigger("server stopping");
  if (reaper_.joinable()) reaper_.join();
}

Result<LaunchedRun> RunLauncher::start(const std::string& file, const std::map<std::string, std::string>& vars) {
  std::error_code ec;
  fs::create_directories(settings_.runs_dir, ec);
  if (ec) return Error{settings_.runs_dir + ": cannot create the runs folder: " + ec.message(), ErrorCode::io_error};
  unsigned serial;
  {
    std::lock_guard lock(mutex_);
    serial = ++serial_;
  }
  const std::string base = fs::absolute(settings_.runs_dir, ec).string() + "/server-" + stamp() + "-" +
                           std::to_string(::getpid()) + "-" + std::to_string(serial);
  LaunchedRun run;
  run.journal = base + ".jsonl";
  run.output = base + ".out";

  std::vector<std::string> args = {
      settings_.program,  "run",       file,       "--plain", "--state-dir", settings_.state_dir, "--runs-dir",
      settings_.runs_dir, "--journal", run.journal};
  if (!settings_.store.empty()) {
    args.push_back("--store");
    args.push_back(settings_.store);
  }
  for (const auto& [key, value] : vars) {
    args.push_back("--var");
    args.push_back(key + "=" + value);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // No token in the run's (nor its targets') environment. Built before fork: after it, in a
  // threaded process, only async-signal-safe calls.
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "CHAOSPLUS_TOKEN=", 16) != 0) envp.push_back(*e);
  }
  envp.push_back(nullptr);

  const int out = ::open(run.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return Error{run.output + ": " + std::strerror(errno), ErrorCode::io_error};
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::lock_guard lock(mutex_);  // the reaper must not wait for a pid not yet in children_
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(out);
    if (null_in >= 0) ::close(null_in);
    return Error{std::string("fork: ") + std::strerror(err), ErrorCode::io_error};
  }
  if (pid == 0) {
    // The child: its own session, default signals.
    ::setsid();
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) std::signal(sig, SIG_DFL);
    if (null_in >= 0) ::dup2(null_in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    const char message[] = "chaosplus server: cannot exec the runner\n";
    [[maybe_unused]] auto w = ::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  ::close(out);
  if (null_in >= 0) ::close(null_in);
  children_[pid] = std::nullopt;
  run.pid = pid;
  return run;
}

std::optional<int> RunLauncher::exit_code(pid_t pid) {
  std::lock_guard lock(mutex_);
  auto it = children_.find(pid);
  return it == children_.end() ? std::nullopt : it->second;
}

int RunLauncher::running() const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& [pid, code] : children_) n += code ? 0 : 1;
  return n;
}

void RunLauncher::reap_loop() {
  // Only our own children, by pid: waitpid(-1) would steal the exit of processes others fork.
  while (!stop_.wait_for(std::chrono::milliseconds(100))) {
    std::lock_guard lock(mutex_);
    for (auto& [pid, code] : children_) {
      if (code) continue;
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
  }
}

std::string file_tail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0));
  const std::size_t from = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string out(size - from, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

}  // namespace chaosplus::server
