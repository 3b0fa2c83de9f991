#include "targets/launch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

#include "net/http_client.h"
#include "net/socket.h"
#include "net/url.h"
#include "targets/program.h"

extern char** environ;

namespace chaosplus::targets {
namespace {

namespace fs = std::filesystem;

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& added) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos && added.contains(std::string(entry.substr(0, eq)))) continue;
    env.emplace_back(entry);
  }
  for (const auto& [name, value] : added) env.push_back(name + "=" + value);
  return env;
}

std::string exit_description(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by " + signal_name(WTERMSIG(status));
  return "exited";
}

// nullopt while `id` runs; else how it ended (with the exit code when it is our child, reaped here).
std::optional<std::string> ended(const ProcessId& id) {
  const auto start = process_start_time(id.pid);
  if (!start || *start != id.start_time) return std::string("exited");
  const char state = process_state(id.pid);
  if (state != 'Z' && state != 'X') return std::nullopt;
  int status = 0;
  if (::waitpid(id.pid, &status, WNOHANG) == id.pid) return exit_description(status);
  return std::string("exited");
}

std::string with_log(const std::string& message, const std::string& log_path) {
  const std::string tail = log_tail(log_path);
  if (tail.empty()) return message + " (its log " + log_path + " is empty)";
  return message + "; last lines of its log " + log_path + ":\n" + tail;
}

// The parsed URL of an HTTP check; none for the other kinds.
Result<std::optional<net::Url>> check_url(const spec::ReadyCheck& check, const std::string& who) {
  if (check.http_url.empty()) return std::optional<net::Url>{};
  auto parsed = net::Url::parse(check.http_url);
  if (!parsed) return Error{"ready check of " + who + ": " + parsed.error()};
  return std::optional<net::Url>(std::move(parsed).value());
}

// One readiness attempt; "" when ready, else what failed.
std::string check_once(const spec::ReadyCheck& check, const std::optional<net::Url>& url, Duration timeout) {
  if (url) {
    net::Request request;
    request.target = url->target;
    auto response = net::fetch(*url, std::move(request), timeout);
    if (!response) return response.error();
    if (response->status < 200 || response->status > 299) {
      return "GET " + check.http_url + " answered " + std::to_string(response->status);
    }
    return {};
  }
  if (check.tcp) {
    auto connected = net::connect_tcp(check.tcp->host, check.tcp->port, timeout);
    if (!connected) return connected.error();
  }
  if (!check.command.empty()) {
    ProgramOptions options;
    options.timeout = timeout;
    options.merge_stderr = true;
    options.kill_leftovers = true;
    auto run = run_program(check.command, options);
    if (!run) return run.error();
    if (run->exit_code != 0) {
      return "'" + describe_command(check.command) + "' exited with " + std::to_string(run->exit_code);
    }
  }
  return {};
}

}  // namespace

std::string default_search_dir() {
  if (const char* dir = std::getenv("CHAOSPLUS_BIN_DIR"); dir != nullptr && *dir != '\0') return dir;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.parent_path().string();
}

Result<std::string> find_executable(const std::string& command, const std::string& search_dir, const std::string& cwd) {
  if (command.empty()) return Error{"cannot start a process: the command is empty"};
  if (command.find('/') != std::string::npos) {
    std::string path = command;
    if (command.front() != '/' && !cwd.empty()) path = (fs::path(cwd) / command).string();
    std::error_code ec;
    if (!fs::exists(path, ec)) return Error{"cannot start '" + command + "': " + path + " does not exist"};
    if (!is_executable_file(path)) {
      return Error{"cannot start '" + command + "': " + path + " is not an executable file"};
    }
    return fs::absolute(path, ec).string();
  }
  std::vector<std::string> dirs;
  if (!search_dir.empty()) dirs.push_back(search_dir);
  if (const char* path_env = std::getenv("PATH"); path_env != nullptr) {
    std::string_view rest(path_env);
    while (true) {
      const auto colon = rest.find(':');
      const std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) dirs.emplace_back(dir);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  for (const auto& dir : dirs) {
    std::string candidate = dir + "/" + command;
    if (is_executable_file(candidate)) return candidate;
  }
  return Error{"cannot start '" + command + "': not found in " + (search_dir.empty() ? "(no folder)" : search_dir) +
               " or PATH"};
}

namespace {

// The sandbox's variables over the launch's; LD_PRELOAD from both is kept, the sandbox's first.
std::map<std::string, std::string> with_sandbox_env(std::map<std::string, std::string> env,
                                                    const std::map<std::string, std::string>& added) {
  for (const auto& [name, value] : added) {
    auto& slot = env[name];
    slot = name == "LD_PRELOAD" && !slot.empty() ? value + ":" + slot : value;
  }
  return env;
}

Result<ProcessId> spawn_in(const spec::ProcessLaunch& launch, const std::string& log_path,
                           const std::string& search_dir, const Sandbox& sandbox, const BeforeExec& before_exec) {
  if (launch.command.empty()) return Error{"cannot start a process: the command is empty"};
  const std::string& name = launch.command.front();
  auto path = find_executable(name, search_dir, launch.cwd);
  if (!path) return Error{path.error()};

  std::error_code ec;
  if (const fs::path folder = fs::path(log_path).parent_path(); !folder.empty()) fs::create_directories(folder, ec);
  net::Fd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log.get() < 0) {
    return Error{"cannot start '" + name + "': cannot open its log file " + log_path + ": " + std::strerror(errno)};
  }
  net::Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull.get() < 0) return Error{"cannot start '" + name + "': cannot open /dev/null: " + std::strerror(errno)};

  ChildPlan plan;
  plan.path = *path;
  plan.argv = launch.command;
  plan.env = merged_environment(with_sandbox_env(launch.env, sandbox.env));
  plan.cwd = launch.cwd;
  plan.stdin_fd = devnull.get();
  plan.stdout_fd = log.get();
  plan.stderr_fd = log.get();
  plan.new_session = true;
  plan.private_mounts = sandbox.private_mounts;
  plan.binds = sandbox.binds;
  auto id = start_gated(plan, before_exec);
  if (!id) return Error{"cannot start '" + name + "': " + id.error()};
  return id;
}

}  // namespace

Result<ProcessId> spawn(const spec::ProcessLaunch& launch, const std::string& log_path, const BeforeExec& before_exec) {
  return spawn(launch, log_path, default_search_dir(), before_exec);
}

Result<ProcessId> spawn(const spec::ProcessLaunch& launch, const std::string& log_path, const std::string& search_dir,
                        const BeforeExec& before_exec) {
  return spawn_in(launch, log_path, search_dir, Sandbox{}, before_exec);
}

Result<ProcessId> spawn(const spec::ProcessLaunch& launch, const std::string& log_path, const Sandbox& sandbox,
                        const BeforeExec& before_exec) {
  return spawn_in(launch, log_path, default_search_dir(), sandbox, before_exec);
}

Status wait_ready(const spec::ReadyCheck& check, const ProcessId& id, const std::string& log_path, HaltSwitch& halt) {
  using Clock = std::chrono::steady_clock;
  const std::string who = describe(id);
  auto url = check_url(check, who);
  if (!url) return Error{url.error()};
  const auto deadline = Clock::now() + check.timeout;
  std::string last_error = "no check finished";
  while (true) {
    if (halt.triggered()) return Error{"halted while waiting for " + who + " to be ready: " + halt.reason()};
    if (const auto how = ended(id)) return Error{with_log(who + " " + *how + " before it was ready", log_path)};
    const auto remaining = std::chrono::duration_cast<Duration>(deadline - Clock::now());
    if (remaining <= Duration::zero()) {
      return Error{
          with_log(who + " was not ready after " + format_duration(check.timeout) + ": " + last_error, log_path)};
    }
    last_error = check_once(check, *url, std::min<Duration>(remaining, std::chrono::seconds(1)));
    if (last_error.empty()) return ok_status();
    halt.wait_for(std::chrono::milliseconds(50));
  }
}

Status check_not_answered_before_start(const spec::ReadyCheck& check, const std::string& who) {
  if (!check.command.empty()) return ok_status();  // a check is one of http, tcp and command
  auto url = check_url(check, who);
  if (!url) return Error{url.error()};
  if (!check_once(check, *url, std::chrono::milliseconds(500)).empty()) return ok_status();
  const std::string address = *url ? check.http_url : check.tcp->to_string();
  return Error{"the ready check (" + address + ") already passes before " + who +
               " is started: another process answers there, so the check could not tell when " + who +
               " is ready (stop that process, or give " + who + " another port)"};
}

std::string log_tail(const std::string& log_path, int max_lines, std::size_t max_bytes) {
  std::ifstream in(log_path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size <= 0) return {};
  const std::streamoff from = std::max<std::streamoff>(0, size - static_cast<std::streamoff>(max_bytes));
  in.seekg(from);
  std::string text(static_cast<std::size_t>(size - from), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (from > 0) {  // drop the partial first line
    const auto nl = text.find('\n');
    text.erase(0, nl == std::string::npos ? 0 : nl + 1);
  }
  std::vector<std::string_view> lines;
  for (std::string_view rest(text); !rest.empty();) {
    const auto nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  const std::size_t first = lines.size() > static_cast<std::size_t>(std::max(max_lines, 0))
                                ? lines.size() - static_cast<std::size_t>(std::max(max_lines, 0))
                                : 0;
  std::string tail;
  for (std::size_t i = first; i < lines.size(); ++i) {
    if (i > first) tail += '\n';
    tail += lines[i];
  }
  return tail;
}

}  // namespace chaosplus::targets
