#pragma once
// A tiny TCP server for the sender's tests: it accepts on 127.0.0.1, runs a handler per connection
// on its own thread, and lets the handler misbehave at will (never answer, reset, close, answer
// garbage) where a real HTTP server would not.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace chaosplus::fuzz::testing {

class RawConn {
 public:
  RawConn(int fd, int number, std::function<void(int)> close_fd)
      : fd_(fd), number_(number), close_fd_(std::move(close_fd)) {}
  int number() const { return number_; }  // 1 for the first connection accepted
  int fd() const { return fd_; }

  // The next request's head ("GET /x HTTP/1.1\r\n...\r\n\r\n"), its body read by Content-Length;
  // nullopt when the peer closed or nothing came within `wait`.
  std::optional<std::string> read_request(std::chrono::milliseconds wait = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
      const auto end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const auto cl = buffer_.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(buffer_.substr(cl + 16));
        if (buffer_.size() >= end + 4 + length) {
          std::string request = buffer_.substr(0, end + 4 + length);
          buffer_.erase(0, end + 4 + length);
          return request;
        }
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  // The target of a request head: "GET /a?b HTTP/1.1" -> "/a?b".
  static std::string target_of(const std::string& request) {
    const auto a = request.find(' ');
    const auto b = request.find(' ', a + 1);
    return request.substr(a + 1, b - a - 1);
  }
  void write(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }
  // Waits until the peer closes (or `wait` passes): the server keeps its end open meanwhile.
  void wait_closed(std::chrono::milliseconds wait = std::chrono::seconds(10)) {
    pollfd p{fd_, POLLIN, 0};
    char chunk[4096];
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::poll(&p, 1, 50) > 0 && ::recv(fd_, chunk, sizeof chunk, 0) <= 0) return;
    }
  }
  // Closes with an RST instead of a FIN (a zero linger time makes close() abort).
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close_fd_(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  int number_;
  std::function<void(int)> close_fd_;
  std::string buffer_;
};

class RawServer {
 public:
  using Handler = std::function<void(RawConn&)>;

  explicit RawServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 128) != 0)
      throw std::runtime_error("listen on 127.0.0.1");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~RawServer() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_)
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);  // handlers blocked in poll/recv wake up
    }
    for (auto& t : threads_) t.join();
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
    ::close(listen_fd_);
  }
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  // New connections are refused from now on (what a crashed server's port does).
  void stop_listening() {
    listening_ = false;
    std::lock_guard lock(mutex_);
    ::shutdown(listen_fd_, SHUT_RDWR);
  }
  int port() const { return port_; }
  int connections() const { return accepted_.load(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void accept_loop() {
    while (!stop_ && listening_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const int number = ++accepted_;
      std::lock_guard lock(mutex_);
      fds_.push_back(fd);
      threads_.emplace_back([this, fd, number] {
        RawConn conn(fd, number, [this](int f) { close_fd(f); });
        handler_(conn);
        // The handler is done: the connection ends (closed in ~RawServer, unless reset closed it).
        if (conn.fd() >= 0) ::shutdown(fd, SHUT_RDWR);
      });
    }
  }

  void close_fd(int fd) {
    std::lock_guard lock(mutex_);
    std::replace(fds_.begin(), fds_.end(), fd, -1);
    ::close(fd);
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> listening_{true};
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace chaosplus::fuzz::testing
