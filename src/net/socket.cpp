#include "net/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/loopback.h"

namespace chaosplus::net {

namespace {

using Clock = std::chrono::steady_clock;

int poll_timeout_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000));
}

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

Result<std::vector<Address>> resolve(const std::string& host, int port) {
  std::vector<Address> out;
  // Literals and localhost never touch the resolver, so they cannot block on DNS.
  auto add_literal = [&](const std::string& text) {
    Address a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (::inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(static_cast<std::uint16_t>(port));
      a.length = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(static_cast<std::uint16_t>(port));
      a.length = sizeof(sockaddr_in6);
    } else {
      return false;
    }
    out.push_back(a);
    return true;
  };
  if (is_localhost_name(host)) {
    add_literal("127.0.0.1");
    add_literal("::1");
    return out;
  }
  if (add_literal(host)) return out;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (rc != 0) return Error{"cannot resolve host '" + host + "': " + ::gai_strerror(rc)};
  for (auto* ai = list; ai != nullptr; ai = ai->ai_next) {
    Address a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    out.push_back(a);
  }
  ::freeaddrinfo(list);
  if (out.empty()) return Error{"cannot resolve host '" + host + "': no addresses"};
  return out;
}

}  // namespace

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string host_port(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Fd> connect_tcp(const std::string& host, int port, Duration timeout) {
  const std::string where = host_port(host, port);
  if (port < 1 || port > 65535) return Error{"connect to " + where + ": invalid port"};
  auto addresses = resolve(host, port);
  if (!addresses) return Error{addresses.error()};

  const auto deadline = Clock::now() + timeout;
  std::string last_error;
  for (const auto& address : *addresses) {
    Fd fd(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!fd.valid()) return Error{"connect to " + where + ": socket: " + std::strerror(errno)};
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length);
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      pollfd p{fd.get(), POLLOUT, 0};
      int ready = 0;
      do {
        ready = ::poll(&p, 1, poll_timeout_ms(deadline));
      } while (ready < 0 && errno == EINTR && Clock::now() < deadline);
      if (ready == 0) return Error{"connect to " + where + " timed out after " + format_duration(timeout)};
      socklen_t len = sizeof err;
      if (ready < 0 || ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err == 0) return fd;
    if (err == ECONNREFUSED) {
      last_error = "connect to " + where + " refused";
    } else if (err == ETIMEDOUT) {
      last_error = "connect to " + where + " timed out";
    } else {
      last_error = "connect to " + where + " failed: " + std::strerror(err);
    }
    if (Clock::now() >= deadline) break;
  }
  return Error{last_error};
}

Status send_all(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return Error{
          std::string(errno == EPIPE || errno == ECONNRESET ? "connection closed by peer" : std::strerror(errno))};
    }
    pollfd p{fd, POLLOUT, 0};
    int ready = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (ready == 0) return Error{"timed out sending"};
    if (ready < 0 && errno != EINTR) return Error{std::string(std::strerror(errno))};
  }
  return ok_status();
}

bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (ready > 0) return true;  // readable, or hung up / error: the next recv tells which
    if (ready == 0) return false;
    if (errno != EINTR) return true;
  }
}

}  // namespace chaosplus::net
