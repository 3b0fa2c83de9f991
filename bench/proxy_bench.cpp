// The load program behind bench/proxy_bench.sh: an epoll server that echoes, swallows or produces
// bytes, and clients that measure round-trip latency (several targets interleaved, so a noisy
// machine disturbs them alike), bulk throughput, and how many connections stay open end to end.
// Loopback only; every loop has a count and a deadline; every blocking socket a timeout.
//
//   proxy-bench serve [--port P]                       prints "listening on PORT", runs until SIGTERM
//   proxy-bench rtt --ports P1,P2.. [--labels a,b..] [--count N] [--size B] [--warmup W] [--fresh]
//   proxy-bench bulk --port P --bytes N [--direction up|down]
//   proxy-bench hold --port P --connections N [--seconds S]
// Clients print one JSON object per line. Protocol (first bytes a client sends): 'E' echo every
// byte that follows; 'U' + 8-byte length N: swallow N bytes, then answer "K"; 'D' + N: send N bytes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kChunk = 256 * 1024;
constexpr auto kSocketTimeout = 5s;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "proxy-bench: %s\n", message.c_str());
  std::exit(2);
}

// Command-line options as --key value pairs (and bare --flags).
class Args {
 public:
  Args(int argc, char** argv) {
    for (int i = 2; i < argc; ++i) {
      std::string key = argv[i];
      if (key.rfind("--", 0) != 0) die("unexpected argument " + key);
      key = key.substr(2);
      if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
        values_[key] = argv[++i];
      } else {
        values_[key] = "";
      }
    }
  }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  std::string text(const std::string& key, const std::string& fallback = {}) const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }
  std::uint64_t number(const std::string& key, std::uint64_t fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    char* end = nullptr;
    auto value = std::strtoull(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0') die("--" + key + " wants a number, got " + it->second);
    return value;
  }

 private:
  std::map<std::string, std::string> values_;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

void set_timeouts(int fd) {
  timeval tv{static_cast<time_t>(std::chrono::seconds(kSocketTimeout).count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// A blocking client socket to 127.0.0.1:port with timeouts, or -1 (errno set).
int connect_blocking(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  set_timeouts(fd);
  set_nodelay(fd);
  auto address = loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool recv_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

std::string header(char op, std::uint64_t length) {
  std::string out(1, op);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  return out;
}

// ---------------------------------------------------------------------------------------------
// serve

struct ServerConnection {
  int fd = -1;
  enum class Mode { header, echo, upload, upload_done, download } mode = Mode::header;
  std::string head;
  std::uint64_t remaining = 0;
  std::string pending;  // echo bytes the socket has not taken yet
  bool want_out = false;
};

class Server {
 public:
  explicit Server(int port) {
    raise_descriptor_limit();
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto address = loopback(port);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("bind failed");
    if (::listen(listener_, 4096) != 0) die("listen failed");
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = nullptr;  // the listener
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &event);
    payload_.assign(kChunk, 'x');
  }

  int port() const { return port_; }

  void run(std::chrono::seconds limit) {
    auto deadline = Clock::now() + limit;
    std::vector<epoll_event> events(1024);
    while (!g_stop && Clock::now() < deadline) {
      int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 200);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.ptr == nullptr) {
          accept_all();
          continue;
        }
        auto* c = static_cast<ServerConnection*>(events[i].data.ptr);
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
          if (!on_readable(*c)) {
            drop(c);
            continue;
          }
        }
        if (events[i].events & EPOLLOUT) {
          if (!on_writable(*c)) drop(c);
        }
      }
    }
  }

 private:
  void accept_all() {
    for (int i = 0; i < 4096; ++i) {
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      set_nodelay(fd);
      auto c = std::make_unique<ServerConnection>();
      c->fd = fd;
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.ptr = c.get();
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event);
      connections_[fd] = std::move(c);
    }
  }

  void interest(ServerConnection& c, bool out) {
    if (c.want_out == out) return;
    c.want_out = out;
    epoll_event event{};
    // While echo bytes wait, stop reading: the client's sending is throttled, not our memory.
    event.events = out ? EPOLLOUT : EPOLLIN;
    if (out && c.mode == ServerConnection::Mode::download) event.events |= EPOLLIN;
    event.data.ptr = &c;
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &event);
  }

  void drop(ServerConnection* c) {
    ::close(c->fd);
    connections_.erase(c->fd);
  }

  // Returns false when the connection is finished.
  bool on_readable(ServerConnection& c) {
    for (int reads = 0; reads < 16; ++reads) {
      ssize_t n = ::recv(c.fd, buffer_, sizeof buffer_, 0);
      if (n == 0) return false;
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      std::string_view data(buffer_, static_cast<std::size_t>(n));
      while (!data.empty()) {
        switch (c.mode) {
          case ServerConnection::Mode::header: {
            c.head.push_back(data.front());
            data.remove_prefix(1);
            char op = c.head[0];
            if (op == 'E') {
              c.mode = ServerConnection::Mode::echo;
            } else if (op != 'U' && op != 'D') {
              return false;
            } else if (c.head.size() == 9) {
              for (int i = 0; i < 8; ++i) {
                c.remaining |= static_cast<std::uint64_t>(static_cast<unsigned char>(c.head[1 + i])) << (8 * i);
              }
              if (op == 'U') {
                c.mode = ServerConnection::Mode::upload;
                if (c.remaining == 0) return finish_upload(c);
              } else {
                c.mode = ServerConnection::Mode::download;
                interest(c, true);
              }
            }
            break;
          }
          case ServerConnection::Mode::echo:
            c.pending.append(data);
            data = {};
            if (!on_writable(c)) return false;
            if (!c.pending.empty()) return true;  // wait for EPOLLOUT before reading more
            break;
          case ServerConnection::Mode::upload: {
            auto take = std::min<std::uint64_t>(c.remaining, data.size());
            c.remaining -= take;
            data.remove_prefix(static_cast<std::size_t>(take));
            if (c.remaining == 0 && !finish_upload(c)) return false;
            break;
          }
          case ServerConnection::Mode::upload_done:
          case ServerConnection::Mode::download: data = {}; break;
        }
      }
    }
    return true;
  }

  bool finish_upload(ServerConnection& c) {
    c.mode = ServerConnection::Mode::upload_done;
    return ::send(c.fd, "K", 1, MSG_NOSIGNAL) == 1;
  }

  bool on_writable(ServerConnection& c) {
    if (c.mode == ServerConnection::Mode::echo) {
      while (!c.pending.empty()) {
        ssize_t n = ::send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) return false;
        c.pending.erase(0, static_cast<std::size_t>(n));
      }
      interest(c, !c.pending.empty());
      return true;
    }
    if (c.mode == ServerConnection::Mode::download) {
      for (int writes = 0; writes < 16 && c.remaining > 0; ++writes) {
        auto size = static_cast<std::size_t>(std::min<std::uint64_t>(c.remaining, payload_.size()));
        ssize_t n = ::send(c.fd, payload_.data(), size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return true;
        if (n <= 0) return false;
        c.remaining -= static_cast<std::uint64_t>(n);
      }
      if (c.remaining == 0) interest(c, false);
      return true;
    }
    interest(c, false);
    return true;
  }

  int listener_ = -1;
  int epoll_ = -1;
  int port_ = 0;
  char buffer_[kChunk];
  std::string payload_;
  std::unordered_map<int, std::unique_ptr<ServerConnection>> connections_;
};

int serve(const Args& args) {
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  auto server = std::make_unique<Server>(static_cast<int>(args.number("port", 0)));
  std::printf("listening on %d\n", server->port());
  std::fflush(stdout);
  server->run(std::chrono::seconds(args.number("max-seconds", 7200)));
  return 0;
}

// ---------------------------------------------------------------------------------------------
// rtt

double percentile_us(const std::vector<std::int64_t>& sorted_ns, double q) {
  if (sorted_ns.empty()) return 0;
  auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted_ns.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, sorted_ns.size());
  return static_cast<double>(sorted_ns[rank - 1]) / 1000.0;
}

struct Target {
  std::string label;
  int port = 0;
  int fd = -1;
  std::vector<std::int64_t> samples_ns;
  std::uint64_t errors = 0;
};

// One small request/response: on the target's open connection, or (fresh) on a new one that is
// opened, used once and closed inside the measured time. Returns nanoseconds, or nullopt.
std::optional<std::int64_t> round_trip(Target& target, const std::string& payload, bool fresh, std::string& reply) {
  auto start = Clock::now();
  if (fresh) {
    int fd = connect_blocking(target.port);
    if (fd < 0) return std::nullopt;
    std::string request = "E" + payload;
    bool good = send_all(fd, request.data(), request.size()) && recv_all(fd, reply.data(), payload.size());
    ::close(fd);
    if (!good) return std::nullopt;
  } else if (!send_all(target.fd, payload.data(), payload.size()) ||
             !recv_all(target.fd, reply.data(), payload.size())) {
    return std::nullopt;
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  if (reply != payload) return std::nullopt;
  return elapsed;
}

int rtt(const Args& args) {
  auto ports = split(args.text("ports"));
  auto labels = split(args.text("labels"));
  if (ports.empty()) die("rtt needs --ports P1,P2,...");
  auto count = args.number("count", 10000);
  auto warmup = args.number("warmup", 200);
  auto size = std::max<std::uint64_t>(1, args.number("size", 64));
  bool fresh = args.has("fresh");
  auto deadline = Clock::now() + std::chrono::seconds(args.number("max-seconds", 120));

  std::vector<Target> targets(ports.size());
  for (std::size_t i = 0; i < ports.size(); ++i) {
    targets[i].port = std::stoi(ports[i]);
    targets[i].label = i < labels.size() ? labels[i] : ports[i];
    targets[i].samples_ns.reserve(count);
    if (!fresh) {
      targets[i].fd = connect_blocking(targets[i].port);
      if (targets[i].fd < 0 || !send_all(targets[i].fd, "E", 1)) die("cannot connect to port " + ports[i]);
    }
  }
  std::string payload(size, 'p');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  std::string reply(size, '\0');

  // Round-robin, with the starting target rotating, so every target sees the same conditions.
  bool timed_out = false;
  for (std::uint64_t iteration = 0; iteration < warmup + count; ++iteration) {
    if (Clock::now() > deadline) {
      timed_out = true;
      break;
    }
    for (std::size_t k = 0; k < targets.size(); ++k) {
      Target& target = targets[(iteration + k) % targets.size()];
      auto ns = round_trip(target, payload, fresh, reply);
      if (!ns) {
        ++target.errors;
        if (!fresh) die("round trip failed on port " + std::to_string(target.port));
        continue;
      }
      if (iteration >= warmup) target.samples_ns.push_back(*ns);
    }
  }
  for (auto& target : targets) {
    std::sort(target.samples_ns.begin(), target.samples_ns.end());
    double mean = 0;
    for (auto ns : target.samples_ns) mean += static_cast<double>(ns) / 1000.0;
    if (!target.samples_ns.empty()) mean /= static_cast<double>(target.samples_ns.size());
    std::printf(
        "{\"label\": \"%s\", \"fresh\": %s, \"size\": %llu, \"count\": %zu, \"errors\": %llu, \"timed_out\": %s, "
        "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f, \"mean_us\": %.1f}\n",
        target.label.c_str(), fresh ? "true" : "false", static_cast<unsigned long long>(size), target.samples_ns.size(),
        static_cast<unsigned long long>(target.errors), timed_out ? "true" : "false",
        percentile_us(target.samples_ns, 0.50), percentile_us(target.samples_ns, 0.90),
        percentile_us(target.samples_ns, 0.99), percentile_us(target.samples_ns, 1.0), mean);
    if (target.fd >= 0) ::close(target.fd);
  }
  return timed_out ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// bulk

int bulk(const Args& args) {
  int port = static_cast<int>(args.number("port", 0));
  auto bytes = args.number("bytes", 1ULL << 30);
  bool up = args.text("direction", "down") == "up";
  auto deadline = Clock::now() + std::chrono::seconds(args.number("max-seconds", 60));
  int fd = connect_blocking(port);
  if (fd < 0) die("cannot connect to port " + std::to_string(port));
  std::vector<char> buffer(kChunk, 'b');
  auto start = Clock::now();
  auto head = header(up ? 'U' : 'D', bytes);
  bool good = send_all(fd, head.data(), head.size());
  std::uint64_t moved = 0;
  while (good && moved < bytes && Clock::now() < deadline) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(bytes - moved, buffer.size()));
    ssize_t n = up ? ::send(fd, buffer.data(), want, MSG_NOSIGNAL) : ::recv(fd, buffer.data(), want, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) good = false;
    else moved += static_cast<std::uint64_t>(n);
  }
  char ack = 0;
  if (good && up && moved == bytes) good = recv_all(fd, &ack, 1) && ack == 'K';
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  bool complete = good && moved == bytes;
  std::printf("{\"direction\": \"%s\", \"bytes\": %llu, \"complete\": %s, \"seconds\": %.4f, \"mb_per_s\": %.1f}\n",
              up ? "up" : "down", static_cast<unsigned long long>(moved), complete ? "true" : "false", seconds,
              static_cast<double>(moved) / seconds / 1e6);
  return complete ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// hold

struct Held {
  int fd = -1;
  std::size_t expect = 0;  // echo bytes still due
  bool alive = true;
};

// A connection the far side closed: out of the epoll set, so it stops firing.
void forget(int epoll, Held& h) {
  h.alive = false;
  ::epoll_ctl(epoll, EPOLL_CTL_DEL, h.fd, nullptr);
}

// Waits until every live connection has its echo back (or the deadline); returns how many did.
// Connections that close or fail are marked dead.
std::size_t collect_echoes(int epoll, std::vector<Held>& held, Clock::time_point deadline) {
  std::size_t waiting = 0;
  for (auto& h : held) waiting += h.alive && h.expect > 0 ? 1 : 0;
  std::vector<epoll_event> events(1024);
  char buffer[64];
  while (waiting > 0 && Clock::now() < deadline) {
    int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 100);
    for (int i = 0; i < n; ++i) {
      Held& h = held[events[i].data.u32];
      if (!h.alive) continue;
      ssize_t got = ::recv(h.fd, buffer, sizeof buffer, 0);
      if (got > 0 && h.expect > 0) {
        h.expect -= std::min<std::size_t>(h.expect, static_cast<std::size_t>(got));
        if (h.expect == 0) --waiting;
      } else if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        if (h.expect > 0) --waiting;
        forget(epoll, h);
      }
    }
  }
  std::size_t done = 0;
  for (auto& h : held) done += h.alive && h.expect == 0 ? 1 : 0;
  return done;
}

int hold(const Args& args) {
  raise_descriptor_limit();
  int port = static_cast<int>(args.number("port", 0));
  auto wanted = args.number("connections", 10000);
  auto seconds = args.number("seconds", 10);
  auto deadline = Clock::now() + std::chrono::seconds(args.number("max-seconds", 120));
  int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Held> held;
  held.reserve(wanted);
  std::uint64_t connect_errors = 0;
  std::string first_error;
  const std::string token = "E01234567";  // 'E', then 8 bytes to echo
  auto open_start = Clock::now();
  for (std::uint64_t i = 0; i < wanted && Clock::now() < deadline; ++i) {
    int fd = connect_blocking(port);
    if (fd < 0 || !send_all(fd, token.data(), token.size())) {
      if (first_error.empty()) first_error = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      ++connect_errors;
      continue;
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u32 = static_cast<std::uint32_t>(held.size());
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    held.push_back({fd, token.size() - 1, true});
  }
  double open_seconds = std::chrono::duration<double>(Clock::now() - open_start).count();
  auto echoed = collect_echoes(epoll, held, std::min(deadline, Clock::now() + 15s));
  std::fprintf(stderr, "opened %zu, echoed %zu; holding %llus\n", held.size(), echoed,
               static_cast<unsigned long long>(seconds));
  std::printf("{\"phase\": \"opened\", \"connections\": %zu, \"echoed\": %zu}\n", echoed, echoed);
  std::fflush(stdout);

  // Hold: every connection idle; a close or reset from the far side marks it dead.
  auto hold_until = std::min(deadline, Clock::now() + std::chrono::seconds(seconds));
  std::vector<epoll_event> events(1024);
  char scratch[64];
  while (Clock::now() < hold_until) {
    int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 100);
    for (int i = 0; i < n; ++i) {
      Held& h = held[events[i].data.u32];
      if (!h.alive) continue;
      ssize_t got = ::recv(h.fd, scratch, sizeof scratch, MSG_DONTWAIT);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) forget(epoll, h);
    }
  }
  std::size_t dropped = 0;
  for (auto& h : held) {
    if (!h.alive) {
      ++dropped;
      continue;
    }
    if (!send_all(h.fd, token.data() + 1, token.size() - 1)) {
      forget(epoll, h);
      ++dropped;
      continue;
    }
    h.expect = token.size() - 1;
  }
  auto echoed_after = collect_echoes(epoll, held, Clock::now() + 15s);
  for (auto& h : held) ::close(h.fd);
  std::printf(
      "{\"phase\": \"done\", \"requested\": %llu, \"opened\": %zu, \"connect_errors\": %llu, \"first_error\": \"%s\", "
      "\"open_seconds\": %.2f, \"echoed\": %zu, \"dropped_while_held\": %zu, \"echoed_after_hold\": %zu}\n",
      static_cast<unsigned long long>(wanted), held.size(), static_cast<unsigned long long>(connect_errors),
      first_error.c_str(), open_seconds, echoed, dropped, echoed_after);
  return echoed_after == wanted ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  Args args(argc, argv);
  if (mode == "serve") return serve(args);
  if (mode == "rtt") return rtt(args);
  if (mode == "bulk") return bulk(args);
  if (mode == "hold") return hold(args);
  std::fprintf(stderr, "usage: proxy-bench serve|rtt|bulk|hold [--options]  (see the top of bench/proxy_bench.cpp)\n");
  return 2;
}
