#pragma once
// A file descriptor that closes itself, and a TCP connect that cannot hang.
#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::net {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Connects (non-blocking connect + poll) within `timeout`; IPv4 and IPv6 literals and "localhost".
// The returned socket is non-blocking, close-on-exec, with TCP_NODELAY.
Result<Fd> connect_tcp(const std::string& host, int port, Duration timeout);

// Sends all of `data` before `deadline` (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
Status send_all(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline);

// Waits until `fd` is readable (POLLIN) or `deadline` passes; false on timeout.
bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline);

// "127.0.0.1:80", "[::1]:80"
std::string host_port(const std::string& host, int port);

}  // namespace chaosplus::net
