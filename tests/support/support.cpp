#include "support/support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace chaosplus::testing {

namespace {

// A port the kernel picks for a socket bound to 127.0.0.1:0; the socket is closed again.
int kernel_picked_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

int free_port() {
  // The socket is closed before the next one is bound, so the kernel may pick the same port again; a
  // test that took two ports for two services would then start both on one (CI saw the token service,
  // given the shop's port too, answer the shop's checkout with 404). Never twice here.
  static std::mutex mutex;
  static std::set<int> handed_out;
  const std::lock_guard lock(mutex);
  while (true) {
    const int port = kernel_picked_port();
    if (handed_out.insert(port).second) return port;
  }
}

std::string needs_root(const std::string& what) {
  return ::geteuid() == 0 ? "" : "needs root (" + what + "), skipped when not run as root";
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ::poll(nullptr, 0, 10);  // polling interval of a deadline-bounded wait
  }
}

std::string bin(const std::string& name) { return std::string(CHAOSPLUS_BIN_DIR) + "/" + name; }
std::string source_path(const std::string& relative) { return std::string(CHAOSPLUS_SOURCE_DIR) + "/" + relative; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "chaosplus-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Child::Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
             const std::string& cwd) {
  cwd_ = cwd;
  is_run_ = argv.size() >= 2 && std::filesystem::path(argv[0]).filename() == "chaosplus" && argv[1] == "run";
  char tmpl[] = "/tmp/chaosplus-child-XXXXXX";
  int out = ::mkstemp(tmpl);
  if (out < 0) throw std::runtime_error("mkstemp");
  output_path_ = tmpl;
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);
  ::close(out);
}

Child::~Child() {
  if (running()) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
  ::unlink(output_path_.c_str());
}

bool Child::running() {
  if (exit_code_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    exited_normally_ = WIFEXITED(status);
    if (is_run_ && exited_normally_) check_journal();
    return false;
  }
  return r == 0;
}

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
  wait_until([this] { return !running(); }, timeout);
  return exit_code_;
}

void Child::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::string Child::output() const { return read_file(output_path_); }

std::string printed_summary(const std::string& output) {
  std::size_t start = output.rfind("\n== ");
  if (start == std::string::npos) return {};
  ++start;
  const std::size_t logs = output.find("\n   logs:", start);
  if (logs == std::string::npos) return {};
  const std::size_t end = output.find('\n', logs + 1);
  return output.substr(start, end == std::string::npos ? std::string::npos : end + 1 - start);
}

void Child::check_journal() {
  const std::string printed = printed_summary(output());
  const std::string marker = "\n   journal: ";
  const std::size_t at = printed.find(marker);
  if (at == std::string::npos) return;  // it ended before it had a journal (invalid input, a dry run)
  const std::size_t from = at + marker.size();
  const std::string journal = printed.substr(from, printed.find('\n', from) - from);
  Child report({bin("chaosplus"), "report", journal}, {}, cwd_);
  const auto code = report.wait(std::chrono::seconds(30));
  const std::string recomputed = printed_summary(report.output());
  if (code != exit_code_ || recomputed != printed) {
    ADD_FAILURE() << "`chaosplus report " << journal << "` does not give what the run printed.\nthe run (exit code "
                  << *exit_code_ << "):\n"
                  << printed << "the report (exit code " << (code ? std::to_string(*code) : "none") << "):\n"
                  << report.output();
  }
}

Listener::Listener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0) {
    throw std::runtime_error("listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

Listener::~Listener() { ::close(fd_); }

char process_state(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return 0;
  return stat[close + 2];
}

bool pid_gone(pid_t pid) {
  const char state = process_state(pid);
  return state == 0 || state == 'Z';
}

int read_pid_file(const std::string& path) {
  int pid = 0;
  wait_until([&] {
    const std::string text = read_file(path);
    if (text.empty() || text.back() != '\n') return false;
    pid = std::stoi(text);
    return true;
  });
  return pid;
}

HttpReply http_request(const std::string& method, const std::string& host, int port, const std::string& target,
                       const std::string& body, std::chrono::milliseconds timeout) {
  HttpReply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto remaining_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long>(0, left.count()));
  };
  ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, remaining_ms()) != 1) {
    ::close(fd);
    return reply;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host +
                    "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) break;
    p = {fd, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms()) != 1) break;
  }
  std::string response;
  char buf[8192];
  while (true) {
    p = {fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms()) != 1) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return reply;
  reply.status = std::atoi(response.c_str() + 9);
  auto end = response.find("\r\n\r\n");
  if (end != std::string::npos) reply.body = response.substr(end + 4);
  return reply;
}

}  // namespace chaosplus::testing
