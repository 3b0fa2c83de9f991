#include "proxy/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/loopback.h"

namespace chaosplus::proxy {

Result<HostPort> parse_host_port(std::string_view text) {
  auto expected = [&](const std::string& why) {
    return Error{"address '" + std::string(text) + "': " + why + " (expected host:port, e.g. 127.0.0.1:8080)"};
  };
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return expected("missing ']'");
    out.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') return expected("missing port");
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return expected("missing port");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return expected("IPv6 addresses need brackets");
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty()) return expected("missing host");
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), out.port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || out.port < 0 ||
      out.port > 65535) {
    return expected("port must be a number from 0 to 65535");
  }
  return out;
}

bool SocketAddress::is_loopback() const { return is_loopback_address(storage); }

std::string SocketAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (storage.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "?";
}

Result<SocketAddress> resolve(const HostPort& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Error{"cannot resolve host '" + address.host + "': " + ::gai_strerror(rc)};
  }
  // Prefer IPv4: "localhost" then means 127.0.0.1, which is what people expect to connect to.
  const addrinfo* pick = found;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      pick = ai;
      break;
    }
  }
  SocketAddress out;
  std::memcpy(&out.storage, pick->ai_addr, pick->ai_addrlen);
  out.length = pick->ai_addrlen;
  ::freeaddrinfo(found);
  return out;
}

Result<net::Fd> listen_on(const SocketAddress& address, bool reuse_port) {
  net::Fd fd(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error{std::string("socket: ") + std::strerror(errno)};
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0) {
    if (errno == EADDRINUSE) return Error{"listen address " + address.to_string() + " is already in use"};
    return Error{"cannot bind " + address.to_string() + ": " + std::strerror(errno)};
  }
  if (::listen(fd.get(), SOMAXCONN) != 0) {
    return Error{"cannot listen on " + address.to_string() + ": " + std::strerror(errno)};
  }
  return fd;
}

Result<SocketAddress> local_address(int fd) {
  SocketAddress out;
  out.length = sizeof out.storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&out.storage), &out.length) != 0) {
    return Error{std::string("getsockname: ") + std::strerror(errno)};
  }
  return out;
}

Result<net::Fd> stream_socket(const SocketAddress& address) {
  net::Fd fd(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error{std::string("socket: ") + std::strerror(errno)};
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

Status begin_connect(int fd, const SocketAddress& address) {
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0 && errno != EINPROGRESS) {
    return Error{"connect to " + address.to_string() + ": " + std::strerror(errno)};
  }
  return ok_status();
}

Result<net::Fd> start_connect(const SocketAddress& address) {
  auto fd = stream_socket(address);
  if (!fd) return fd;
  if (auto s = begin_connect(fd->get(), address); !s) return Error{s.error()};
  return fd;
}

}  // namespace chaosplus::proxy
