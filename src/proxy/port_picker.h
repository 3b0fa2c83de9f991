#pragma once
// Listening sockets for proxies asked to listen on port 0. Linux's bind(0) searches the ephemeral
// range for a free port from a random start, half the range (one parity) first, checking every
// candidate against all sockets bound to it: once thousands of ports are taken each bind() walks
// them, and creating a proxy grew from about 1 ms to 19 ms (14,000 proxies). The picker keeps its
// own cursor over the same range instead (odd ports first, as the kernel leaves the even ones to
// connect()), so each proxy costs one bind() of a port that is probably free, and a taken port is
// skipped once per lap of the range rather than once per proxy.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "net/socket.h"
#include "proxy/address.h"

namespace chaosplus::proxy {

class PortPicker {
 public:
  // Reads net.ipv4.ip_local_port_range and ip_local_reserved_ports; starts at a random place.
  PortPicker();
  // For tests: candidates in [low, high], starting at `first`.
  PortPicker(int low, int high, int first);

  // A non-blocking listening socket (SO_REUSEADDR; SO_REUSEPORT with `reuse_port`, which never
  // joins a port some other socket already listens on). Port 0 in `address` means a free port of
  // the range; any other port is bound as given.
  Result<net::Fd> listen(const SocketAddress& address, bool reuse_port);

 private:
  std::vector<std::uint16_t> ports_;  // the range's candidates, odd ports first
  std::size_t cursor_ = 0;
};

}  // namespace chaosplus::proxy
