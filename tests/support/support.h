#pragma once
// Helpers for tests that start real processes: free ports, temporary folders, child processes
// with captured output, and waiting for a condition with a deadline (never a fixed sleep).
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chaosplus::testing {

// "" when the process runs as root, else why a test that needs it skips: "needs root (nftables)".
// Such a test starts with: if (auto why = needs_root("nftables"); !why.empty()) GTEST_SKIP() << why;
// so `ctest -L unit` passes on a developer's machine without root.
std::string needs_root(const std::string& what);

// A TCP port on 127.0.0.1 that was free a moment ago, and that no earlier call in this process returned.
int free_port();

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Absolute path of a built program (chaosplus, demo-shop-api, ...).
std::string bin(const std::string& name);
// Absolute path inside the source tree.
std::string source_path(const std::string& relative);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
std::vector<std::string> read_lines(const std::string& path);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process in its own process group, its stdout and stderr captured to a file.
//
// Every `chaosplus run` a test starts is held to its journal (issue 10: the event stream is the only
// channel): once such a run has exited and printed its summary ("   journal: PATH"), `chaosplus
// report PATH` must print the same summary and verdict and exit with the same code, or the test
// fails with both texts. A run killed by a signal (kill -9) printed no summary and is not checked.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
        const std::string& cwd = {});
  ~Child();  // SIGKILLs the group if still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Waits for exit; returns the exit code (128+signal if killed), nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void signal(int sig);
  std::string output() const;  // stdout and stderr so far

 private:
  void check_journal();

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  bool exited_normally_ = false;
  bool is_run_ = false;  // a `chaosplus run`
  std::string cwd_;      // its journal path may be relative to it
  std::string output_path_;
};

// The summary a `chaosplus run` (or `chaosplus report`) printed: from its "== <name>: <VERDICT>"
// line to its "   logs:" line; "" when there is none.
std::string printed_summary(const std::string& output);

// A listening TCP socket on 127.0.0.1, port chosen by the kernel; connections wait in the
// backlog (nobody accepts them).
class Listener {
 public:
  Listener();
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Single-character process state from /proc/<pid>/stat ('R', 'S', 'T', 'Z', ...), or 0 if gone.
char process_state(pid_t pid);

// Gone for good, or a zombie awaiting a parent that is not us.
bool pid_gone(pid_t pid);

// Reads the pid a script wrote to `path`, waiting for the file to be complete ("<pid>\n"); 0 if it
// never is.
int read_pid_file(const std::string& path);

// One blocking HTTP/1.1 request with Connection: close; returns status (0 on failure) and body.
struct HttpReply {
  int status = 0;
  std::string body;
};
HttpReply http_request(const std::string& method, const std::string& host, int port, const std::string& target,
                       const std::string& body = {}, std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace chaosplus::testing
