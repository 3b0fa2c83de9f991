#pragma once
// The addresses a proxy listens on and forwards to: "host:port" parsing, name resolution, and
// the non-blocking sockets the event loop needs.
#include <sys/socket.h>

#include <string>
#include <string_view>

#include "core/result.h"
#include "net/socket.h"

namespace chaosplus::proxy {

struct HostPort {
  std::string host;  // without brackets for IPv6 literals
  int port = 0;
};

// "127.0.0.1:8080", "localhost:0", "[::1]:6379". The port is required (0..65535).
Result<HostPort> parse_host_port(std::string_view text);

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  bool is_loopback() const;
  std::string to_string() const;  // "127.0.0.1:80", "[::1]:80"
};

// Resolves with getaddrinfo, which may block: call it off the event loop.
Result<SocketAddress> resolve(const HostPort& address);

// A non-blocking listening socket (SO_REUSEADDR); errors say "address in use" plainly.
// With `reuse_port` (SO_REUSEPORT) other sockets of this user may listen on the same port too.
Result<net::Fd> listen_on(const SocketAddress& address, bool reuse_port = false);
// The address a socket is bound to.
Result<SocketAddress> local_address(int fd);
// A non-blocking TCP socket (TCP_NODELAY set) of the address's family, not yet connected.
Result<net::Fd> stream_socket(const SocketAddress& address);
// Starts a non-blocking connect of `fd`; it becomes writable when the connect finishes.
Status begin_connect(int fd, const SocketAddress& address);
// Both of the above: starts a non-blocking connect (TCP_NODELAY set); the socket becomes writable when it finishes.
Result<net::Fd> start_connect(const SocketAddress& address);

}  // namespace chaosplus::proxy
