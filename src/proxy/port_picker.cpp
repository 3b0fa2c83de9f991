#include "proxy/port_picker.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace chaosplus::proxy {

namespace {

std::string read_setting(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "8080,9000-9100" (ip_local_reserved_ports): the kernel's bind(0) never picks these.
std::vector<bool> reserved_ports(const std::string& text) {
  std::vector<bool> out(65536, false);
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    int low = 0, high = 0;
    char dash = 0;
    std::stringstream range(item);
    if (!(range >> low)) continue;
    if (!(range >> dash >> high) || dash != '-') high = low;
    for (int port = std::max(low, 0); port <= std::min(high, 65535); ++port) out[static_cast<std::size_t>(port)] = true;
  }
  return out;
}

std::vector<std::uint16_t> candidates(int low, int high, const std::vector<bool>& reserved) {
  std::vector<std::uint16_t> out;
  low = std::max(low, 1);
  high = std::min(high, 65535);
  for (int parity : {1, 0}) {
    for (int port = low; port <= high; ++port) {
      if (port % 2 == parity && !reserved[static_cast<std::size_t>(port)]) {
        out.push_back(static_cast<std::uint16_t>(port));
      }
    }
  }
  return out;
}

void set_port(SocketAddress& address, std::uint16_t port) {
  if (address.storage.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&address.storage)->sin_port = htons(port);
  } else if (address.storage.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&address.storage)->sin6_port = htons(port);
  }
}

int port_of(const SocketAddress& address) {
  if (address.storage.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address.storage)->sin_port);
  }
  if (address.storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address.storage)->sin6_port);
  }
  return 0;
}

enum class Attempt { listening, taken, failed };

// What a failed socket call means for the search: the port is taken (try the next one), or the
// address itself is wrong (`why` says how) and no port will do.
Attempt failure(std::string& why) {
  if (errno == EADDRINUSE) return Attempt::taken;
  why = std::strerror(errno);
  return Attempt::failed;
}

net::Fd open_socket(const SocketAddress& address, bool reuse_port) {
  net::Fd s(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s.valid()) return s;
  int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  return s;
}

bool bind_to(const net::Fd& s, const SocketAddress& address) {
  return ::bind(s.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length) == 0;
}

// One try at `address`: listening (then `fd` is the socket), taken, or failed.
Attempt try_listen(const SocketAddress& address, bool reuse_port, net::Fd& fd, std::string& why) {
  if (reuse_port) {
    // SO_REUSEPORT would let us join another socket's group on a taken port (of this user); the
    // kernel's bind(0) never does that. A probe without it first finds whether the port is free.
    // It is closed before the real bind: the port stays ours unless someone binds it in the
    // microseconds between (then the real bind finds it taken, or shares a port just bound).
    net::Fd probe = open_socket(address, false);
    if (!probe.valid() || !bind_to(probe, address)) return failure(why);
  }
  net::Fd s = open_socket(address, reuse_port);
  if (!s.valid() || !bind_to(s, address) || ::listen(s.get(), SOMAXCONN) != 0) return failure(why);
  fd = std::move(s);
  return Attempt::listening;
}

}  // namespace

PortPicker::PortPicker() {
  int low = 32768, high = 60999;  // Linux's default range
  std::stringstream range(read_setting("/proc/sys/net/ipv4/ip_local_port_range"));
  int read_low = 0, read_high = 0;
  if (range >> read_low >> read_high && read_low > 0 && read_low <= read_high) {
    low = read_low;
    high = read_high;
  }
  ports_ = candidates(low, high, reserved_ports(read_setting("/proc/sys/net/ipv4/ip_local_reserved_ports")));
  // A random start, like the kernel's: two proxy processes do not step on each other's ports.
  if (!ports_.empty()) cursor_ = std::random_device{}() % ports_.size();
}

PortPicker::PortPicker(int low, int high, int first) {
  ports_ = candidates(low, high, std::vector<bool>(65536, false));
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    if (ports_[i] == first) cursor_ = i;
  }
}

Result<net::Fd> PortPicker::listen(const SocketAddress& address, bool reuse_port) {
  if (port_of(address) != 0 || ports_.empty()) return listen_on(address, reuse_port);
  SocketAddress candidate = address;
  for (std::size_t tried = 0; tried < ports_.size(); ++tried) {
    set_port(candidate, ports_[cursor_]);
    cursor_ = (cursor_ + 1) % ports_.size();
    net::Fd fd;
    std::string why;
    switch (try_listen(candidate, reuse_port, fd, why)) {
      case Attempt::listening: return fd;
      case Attempt::taken: continue;
      case Attempt::failed: return Error{"cannot listen on " + address.to_string() + ": " + why};
    }
  }
  // Every port of the range is taken as far as we can tell: the kernel has the last word.
  return listen_on(address, reuse_port);
}

}  // namespace chaosplus::proxy
