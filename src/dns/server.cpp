#include "dns/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "core/tell_line.h"
#include "dns/answer.h"

namespace chaosplus::dns {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxTcpConnections = 16;
constexpr auto kTcpIdle = std::chrono::seconds(2);

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The rules as last read; read again when the file's identity, size or time changes.
class LiveRules {
 public:
  explicit LiveRules(std::string path) : path_(std::move(path)) {}
  RuleFile current() {
    std::lock_guard lock(mutex_);
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      rules_ = {};  // gone: no table, no faults (every name is refused)
      seen_ = {};
      return rules_;
    }
    const Seen now{st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    if (!(now == seen_)) {
      if (auto read = read_rules(path_)) {
        rules_ = std::move(read).value();
        seen_ = now;
      } else {
        std::cerr << "chaosplus resolver: " << read.error() << " (keeping the rules read before)\n";
      }
    }
    return rules_;
  }

 private:
  struct Seen {
    ino_t ino = 0;
    off_t size = -1;
    time_t sec = 0;
    long nsec = 0;
    bool operator==(const Seen&) const = default;
  };
  std::string path_;
  std::mutex mutex_;
  Seen seen_;
  RuleFile rules_;
};

double draw() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// The reply to one message, or nothing; `delay` is set for a delayed one.
std::optional<std::vector<std::uint8_t>> answer(std::span<const std::uint8_t> message, LiveRules& rules,
                                                std::chrono::milliseconds& delay) {
  delay = {};
  const Parsed parsed = parse_query(message);
  if (!parsed.query) {
    if (!parsed.formerr_id) return std::nullopt;
    return build_header_response(*parsed.formerr_id, parsed.opcode,
                                 parsed.opcode != 0 ? Rcode::notimp : Rcode::formerr);
  }
  Decision d = decide(*parsed.query, rules.current(), draw());
  delay = d.delay;
  return std::move(d.reply);
}

sockaddr_in loopback_address(const std::string& address, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
  return a;
}

Result<Fd> bound(int type, const sockaddr_in& a) {
  Fd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Error{std::string("socket: ") + std::strerror(errno)};
  const int one = 1;
  if (type == SOCK_STREAM) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    return Error{std::strerror(errno), errno == EADDRINUSE ? ErrorCode::already_exists : ErrorCode::io_error};
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), 16) != 0) return Error{std::string("listen: ") + std::strerror(errno)};
  return fd;
}

// Reads exactly `n` bytes, waiting at most kTcpIdle for each part; false on end, error or halt.
bool read_exactly(int fd, std::uint8_t* out, std::size_t n, HaltSwitch& halt) {
  std::size_t got = 0;
  const auto deadline = Clock::now() + kTcpIdle;
  while (got < n) {
    if (halt.triggered() || Clock::now() >= deadline) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

// One TCP connection: messages with a two-byte length in front (RFC 1035 4.2.2), until it is idle.
void serve_tcp(Fd conn, LiveRules& rules, HaltSwitch& halt) {
  for (;;) {
    std::uint8_t len[2];
    if (!read_exactly(conn.get(), len, 2, halt)) return;
    std::vector<std::uint8_t> message(static_cast<std::size_t>(len[0] << 8 | len[1]));
    if (!read_exactly(conn.get(), message.data(), message.size(), halt)) return;
    std::chrono::milliseconds delay{};
    auto reply = answer(message, rules, delay);
    if (delay.count() > 0 && halt.wait_for(delay)) return;
    if (!reply) return;  // `timeout`: close without an answer
    std::vector<std::uint8_t> framed{static_cast<std::uint8_t>(reply->size() >> 8),
                                     static_cast<std::uint8_t>(reply->size() & 0xFF)};
    framed.insert(framed.end(), reply->begin(), reply->end());
    if (::send(conn.get(), framed.data(), framed.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(framed.size())) return;
  }
}

struct TcpWorker {
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> done;
};

struct Pending {
  Clock::time_point due;
  std::vector<std::uint8_t> reply;
  sockaddr_storage peer;
  socklen_t peer_len;
};

}  // namespace

std::vector<std::string> default_addresses() {
  std::vector<std::string> all;
  for (int i = 1; i <= 254; ++i) all.push_back("127.53.0." + std::to_string(i));
  return all;
}

int run_server(const ServerOptions& options, HaltSwitch& halt) {
  Fd udp, tcp;
  std::string listening;
  for (const std::string& address : options.addresses) {
    const sockaddr_in a = loopback_address(address, options.port);
    auto u = bound(SOCK_DGRAM, a);
    if (!u) {
      if (u.code() == ErrorCode::already_exists) continue;
      std::cerr << "chaosplus resolver: cannot listen on " << address << ":" << options.port << " (UDP): " << u.error()
                << "\n";
      return 3;
    }
    auto t = bound(SOCK_STREAM, a);
    if (!t) {
      if (t.code() == ErrorCode::already_exists) continue;
      std::cerr << "chaosplus resolver: cannot listen on " << address << ":" << options.port << " (TCP): " << t.error()
                << "\n";
      return 3;
    }
    udp = std::move(u).value();
    tcp = std::move(t).value();
    listening = address;
    break;
  }
  if (listening.empty()) {
    std::cerr << "chaosplus resolver: no free address among the " << options.addresses.size() << " to try on port "
              << options.port << "\n";
    return 3;
  }
  if (!options.address_to.empty()) {
    if (auto s = tell_line(options.address_to, listening); !s) {
      std::cerr << "chaosplus resolver: " << s.error() << "\n";
      return 3;
    }
  }
  std::cout << "chaosplus resolver listening on " << listening << ":" << options.port << " (UDP and TCP), rules in "
            << options.rules_path << std::endl;

  LiveRules rules(options.rules_path);
  std::vector<Pending> pending;
  std::vector<TcpWorker> workers;
  while (!halt.triggered()) {
    // Send the delayed answers that are due; wait at most until the next one.
    auto now = Clock::now();
    int wait_ms = 200;
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->due <= now) {
        ::sendto(udp.get(), it->reply.data(), it->reply.size(), 0, reinterpret_cast<const sockaddr*>(&it->peer),
                 it->peer_len);
        it = pending.erase(it);
      } else {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(it->due - now).count() + 1;
        wait_ms = std::min<int>(wait_ms, static_cast<int>(left));
        ++it;
      }
    }
    std::erase_if(workers, [](TcpWorker& w) {
      if (!w.done->load()) return false;
      w.thread.join();
      return true;
    });
    pollfd fds[2] = {{udp.get(), POLLIN, 0}, {tcp.get(), POLLIN, 0}};
    if (::poll(fds, 2, wait_ms) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      std::uint8_t buf[4096];
      Pending p{};
      p.peer_len = sizeof p.peer;
      const ssize_t n =
          ::recvfrom(udp.get(), buf, sizeof buf, MSG_TRUNC, reinterpret_cast<sockaddr*>(&p.peer), &p.peer_len);
      // A datagram larger than the buffer is no query of ours: dropped.
      if (n > 0 && static_cast<std::size_t>(n) <= sizeof buf) {
        std::chrono::milliseconds delay{};
        if (auto reply = answer({buf, static_cast<std::size_t>(n)}, rules, delay)) {
          p.reply = std::move(*reply);
          p.due = Clock::now() + delay;
          if (delay.count() == 0) {
            ::sendto(udp.get(), p.reply.data(), p.reply.size(), 0, reinterpret_cast<const sockaddr*>(&p.peer),
                     p.peer_len);
          } else if (pending.size() < 4096) {
            pending.push_back(std::move(p));
          }
        }
      }
    }
    if (fds[1].revents & POLLIN) {
      Fd conn(::accept4(tcp.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn.get() >= 0 && workers.size() < kMaxTcpConnections) {
        auto done = std::make_shared<std::atomic<bool>>(false);
        workers.push_back({std::thread([c = std::move(conn), &rules, &halt, done]() mutable {
                             serve_tcp(std::move(c), rules, halt);
                             done->store(true);
                           }),
                           done});
      }
    }
  }
  for (TcpWorker& w : workers) w.thread.join();
  return 0;
}

}  // namespace chaosplus::dns
