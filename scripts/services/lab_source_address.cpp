// Preloaded (LD_PRELOAD) into each lab node's Patroni and PostgreSQL by pg-ha-lab.sh: binds every
// outgoing TCP connection to a loopback address to the node's own address (CHAOSPLUS_LAB_SOURCE).
//
// Why: on loopback the kernel picks 127.0.0.1 as the source of every connection, whatever address
// the server listens on, so node3's replication stream, its Patroni's etcd session and its REST
// calls would all come from 127.0.0.1 and a network fault "between 127.0.0.13 and the etcd members"
// would match none of its packets. Neither Patroni nor libpq can be told a source address, so the
// lab sets it here, under the one call they all make. A socket already bound is left alone, and so
// is anything that is not TCP to 127.0.0.0/8; when the bind fails the connection goes on as before.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>

namespace {

using connect_fn = int (*)(int, const sockaddr*, socklen_t);

in_addr configured_source() {
  in_addr source{};
  const char* text = std::getenv("CHAOSPLUS_LAB_SOURCE");
  if (text == nullptr || ::inet_pton(AF_INET, text, &source) != 1) source.s_addr = 0;
  return source;
}

bool is_unbound_tcp(int fd) {
  int type = 0;
  socklen_t type_len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_STREAM) return false;
  sockaddr_in bound{};
  socklen_t bound_len = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) return false;
  return bound.sin_family == AF_INET && bound.sin_port == 0 && bound.sin_addr.s_addr == htonl(INADDR_ANY);
}

}  // namespace

extern "C" int connect(int fd, const sockaddr* address, socklen_t length) {
  static const auto real_connect = reinterpret_cast<connect_fn>(::dlsym(RTLD_NEXT, "connect"));
  static const in_addr source = configured_source();
  if (source.s_addr != 0 && address != nullptr && address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    const auto* to = reinterpret_cast<const sockaddr_in*>(address);
    if ((ntohl(to->sin_addr.s_addr) >> 24) == 127 && is_unbound_tcp(fd)) {
      // The port is chosen at connect time, per destination, as without the bind.
      const int on = 1;
      ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
      sockaddr_in from{};
      from.sin_family = AF_INET;
      from.sin_addr = source;
      ::bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from);
    }
  }
  return real_connect(fd, address, length);
}
