// The fault proxy against real sockets: an echo server upstream, the proxy engine in-process, and
// its control API on a real HTTP server. Timing checks are lower bounds only.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "core/halt_switch.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/socket.h"
#include "net/url.h"
#include "proxy/api.h"
#include "proxy/api_client.h"
#include "proxy/engine.h"
#include "proxy/server.h"
#include "support/support.h"

namespace chaosplus::proxy {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using testing::wait_until;

constexpr auto kSocketTimeout = 10s;

void set_timeouts(int fd) {
  timeval tv{static_cast<time_t>(kSocketTimeout.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A blocking client socket with send/receive timeouts; invalid if the connect failed (errno set).
net::Fd connect_to(int port) {
  net::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  set_timeouts(fd.get());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return net::Fd();
  return fd;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads until `n` bytes, EOF, an error or the deadline.
std::string read_exactly(int fd, std::size_t n, std::chrono::milliseconds timeout = 10s) {
  std::string out;
  auto deadline = Clock::now() + timeout;
  char buffer[65536];
  while (out.size() < n && Clock::now() < deadline) {
    ssize_t got = ::recv(fd, buffer, std::min(sizeof buffer, n - out.size()), 0);
    if (got <= 0) break;
    out.append(buffer, static_cast<std::size_t>(got));
  }
  return out;
}

struct Drained {
  std::string data;
  bool eof = false;
  int error = 0;  // errno of a failed recv
};

Drained read_to_end(int fd, std::chrono::milliseconds timeout = 10s) {
  Drained out;
  auto deadline = Clock::now() + timeout;
  char buffer[65536];
  while (Clock::now() < deadline) {
    ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got > 0) {
      out.data.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0) {
      out.eof = true;
      break;
    } else if (errno != EINTR) {
      out.error = errno;
      break;
    }
  }
  return out;
}

bool readable_within(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 generator(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(generator() & 0xff);
  return out;
}

// Echoes every byte back and passes the client's FIN on; one thread per connection (test only).
class EchoServer {
 public:
  EchoServer() : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    int one = 1;
    ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_.get(), 512);
    socklen_t length = sizeof address;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~EchoServer() {
    stop_ = true;
    acceptor_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : workers_) t.join();
  }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::size_t received() const { return received_.load(); }
  std::size_t echoed() const { return echoed_.load(); }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      workers_.emplace_back([this, fd] { echo(net::Fd(fd)); });
    }
  }
  void echo(net::Fd fd) {
    set_timeouts(fd.get());
    char buffer[65536];
    while (!stop_) {
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
      if (n <= 0) break;
      received_ += static_cast<std::size_t>(n);
      if (!send_all(fd.get(), {buffer, static_cast<std::size_t>(n)})) return;
      echoed_ += static_cast<std::size_t>(n);
    }
    ::shutdown(fd.get(), SHUT_WR);
    // Keep the socket until the peer closes, so closing never turns into a reset.
    while (!stop_) {
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (::recv(fd.get(), buffer, sizeof buffer, 0) <= 0) break;
    }
  }

  net::Fd listener_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> received_{0};
  std::atomic<std::size_t> echoed_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::list<std::thread> workers_;
};

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = Engine::start({});
    ASSERT_TRUE(started.ok()) << started.error();
    engine_ = std::move(started).value();
    auto made = engine_->create_proxy({"echo", "127.0.0.1:0", echo_.address(), true});
    ASSERT_TRUE(made.ok()) << made.failure().message;
    port_ = std::stoi(made.value().listen.substr(made.value().listen.rfind(':') + 1));
  }

  void add_toxic(const std::string& type, Attributes attributes, const std::string& stream = "downstream") {
    ToxicDraft draft;
    draft.type = type;
    draft.stream = stream;
    draft.attributes = std::move(attributes);
    auto spec = make_toxic(draft);
    ASSERT_TRUE(spec.ok()) << spec.error();
    auto added = engine_->add_toxic("echo", *spec);
    ASSERT_TRUE(added.ok()) << added.failure().message;
  }

  // Round trip of a few bytes through the proxy and the echo server.
  bool ping(int fd, const std::string& message = "ping") {
    return send_all(fd, message) && read_exactly(fd, message.size()) == message;
  }

  EchoServer echo_;
  std::unique_ptr<Engine> engine_;
  int port_ = 0;
};

TEST_F(ProxyTest, BytesPassUnchangedBothWaysAndTheEndOfStreamFollows) {
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  const std::string payload = random_bytes(4 * 1024 * 1024, 1);
  std::thread writer([&] {
    send_all(client.get(), payload);
    ::shutdown(client.get(), SHUT_WR);
  });
  Drained back = read_to_end(client.get(), 30s);
  writer.join();
  EXPECT_TRUE(back.eof);
  EXPECT_EQ(back.data.size(), payload.size());
  EXPECT_TRUE(back.data == payload);
}

TEST_F(ProxyTest, ManyConcurrentConnectionsEachGetTheirOwnBytesBack) {
  constexpr int kConnections = 100;
  std::vector<net::Fd> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(connect_to(port_));
    ASSERT_TRUE(clients.back().valid());
  }
  for (int i = 0; i < kConnections; ++i) ASSERT_TRUE(send_all(clients[i].get(), random_bytes(8192, i)));
  for (int i = 0; i < kConnections; ++i) EXPECT_EQ(read_exactly(clients[i].get(), 8192), random_bytes(8192, i));
  EXPECT_TRUE(wait_until([&] { return engine_->stats().open == kConnections; }));
  clients.clear();
  EXPECT_TRUE(wait_until([&] { return engine_->stats().open == 0; }));
}

TEST_F(ProxyTest, LatencyDelaysEachResponseByAtLeastTheLatency) {
  add_toxic("latency", {{"latency", 200}});
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  auto start = Clock::now();
  EXPECT_TRUE(ping(client.get()));
  EXPECT_GE(Clock::now() - start, 200ms);
}

TEST_F(ProxyTest, AToxicAddedToALiveConnectionActsOnIt) {
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(ping(client.get()));
  add_toxic("latency", {{"latency", 300}}, "upstream");
  auto start = Clock::now();
  EXPECT_TRUE(ping(client.get()));
  EXPECT_GE(Clock::now() - start, 300ms);
}

TEST_F(ProxyTest, RemovingLatencyMidStreamLosesAndReordersNoByte) {
  add_toxic("latency", {{"latency", 60'000}});  // nothing would arrive within the test without removal
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  const std::string payload = random_bytes(512 * 1024, 2);
  const std::size_t half = payload.size() / 2;
  ASSERT_TRUE(send_all(client.get(), std::string_view(payload).substr(0, half)));
  ASSERT_TRUE(wait_until([&] { return echo_.echoed() >= half; }));
  EXPECT_FALSE(readable_within(client.get(), 0ms));
  ASSERT_TRUE(engine_->remove_toxic("echo", "latency_downstream").ok());
  ASSERT_TRUE(send_all(client.get(), std::string_view(payload).substr(half)));
  std::string back = read_exactly(client.get(), payload.size(), 20s);
  EXPECT_EQ(back.size(), payload.size());
  EXPECT_TRUE(back == payload);
}

TEST_F(ProxyTest, SwitchingBetweenSplicedAndToxicPathsMidStreamLosesAndReordersNoByte) {
  // Not HTTP, no toxic: the proxy splices. Toxics come and go on both directions while bytes
  // flow without a pause; the echo must come back whole and in order.
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  const std::string payload = random_bytes(24 * 1024 * 1024, 7);
  std::atomic<bool> sent{false};
  std::thread writer([&] { sent = send_all(client.get(), payload); });
  std::string back;
  std::atomic<std::size_t> got{0};
  std::thread reader([&] {
    back = read_exactly(client.get(), payload.size(), 60s);
    got = back.size();
  });
  // Wait for bytes to pass on the spliced path before each toxic comes, and after it goes.
  auto flowed = [&](std::size_t at_least) { return wait_until([&] { return echo_.echoed() >= at_least; }, 30s); };
  const std::size_t step = payload.size() / 10;
  bool switched = true;
  for (std::size_t i = 1; i <= 8 && switched; i += 2) {
    switched = flowed(i * step);
    const std::string stream = (i / 2) % 2 == 0 ? "downstream" : "upstream";
    add_toxic("latency", {{"latency", 5}}, stream);
    switched = switched && flowed((i + 1) * step);
    switched = switched && engine_->remove_toxic("echo", "latency_" + stream).ok();
  }
  writer.join();
  reader.join();
  EXPECT_TRUE(switched);
  EXPECT_TRUE(sent);
  EXPECT_EQ(back.size(), payload.size());
  EXPECT_TRUE(back == payload);
  EXPECT_GT(engine_->stats().spliced, 0u);
}

// An engine with `pipes` splice pipes and one proxy "echo" in front of `echo`; returns its port.
int start_echo_proxy(std::unique_ptr<Engine>& engine, const EchoServer& echo, std::size_t pipes) {
  Engine::Options options;
  options.splice_pipes = pipes;
  auto started = Engine::start(options);
  if (!started.ok()) return 0;
  engine = std::move(started).value();
  auto made = engine->create_proxy({"echo", "127.0.0.1:0", echo.address(), true});
  if (!made.ok()) return 0;
  return std::stoi(made.value().listen.substr(made.value().listen.rfind(':') + 1));
}

// Echoes `payload` through `port` with a writer thread (so neither side blocks the other).
std::string echo_through(int port, const std::string& payload) {
  net::Fd client = connect_to(port);
  if (!client.valid()) return {};
  std::thread writer([&] { send_all(client.get(), payload); });
  std::string back = read_exactly(client.get(), payload.size(), 60s);
  writer.join();
  return back;
}

TEST(ProxySplice, WithoutPipesEveryByteIsCopiedAndNoneSpliced) {
  EchoServer echo;
  std::unique_ptr<Engine> engine;
  int port = start_echo_proxy(engine, echo, 0);
  ASSERT_NE(port, 0);
  const std::string payload = random_bytes(4 * 1024 * 1024, 11);
  EXPECT_TRUE(echo_through(port, payload) == payload);
  EXPECT_EQ(engine->stats().spliced, 0u);
}

TEST(ProxySplice, ConnectionsBeyondThePoolCopyAndEveryStreamStaysWhole) {
  // One pipe for eight busy connections: a read that finds the pool empty copies instead,
  // switching back and forth as the pipe comes free.
  EchoServer echo;
  std::unique_ptr<Engine> engine;
  int port = start_echo_proxy(engine, echo, 1);
  ASSERT_NE(port, 0);
  std::vector<std::string> payloads;
  std::vector<std::string> results(8);
  for (unsigned i = 0; i < 8; ++i) payloads.push_back(random_bytes(3 * 1024 * 1024, 100 + i));
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] { results[i] = echo_through(port, payloads[i]); });
  }
  for (auto& c : clients) c.join();
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(results[i].size(), payloads[i].size()) << i;
    EXPECT_TRUE(results[i] == payloads[i]) << i;
  }
  auto stats = engine->stats();
  EXPECT_GT(stats.spliced, 0u);
  EXPECT_LT(stats.spliced, 2u * 8 * 3 * 1024 * 1024);  // each stream starts copied (is it HTTP?)
}

TEST_F(ProxyTest, TimeoutZeroHoldsDataUntilTheToxicIsRemoved) {
  add_toxic("timeout", {{"timeout", 0}});
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(send_all(client.get(), "held"));
  ASSERT_TRUE(wait_until([&] { return echo_.echoed() >= 4; }));
  EXPECT_FALSE(readable_within(client.get(), 300ms));
  ASSERT_TRUE(engine_->remove_toxic("echo", "timeout_downstream").ok());
  EXPECT_EQ(read_exactly(client.get(), 4), "held");
}

TEST_F(ProxyTest, TimeoutClosesTheConnectionWhenItPasses) {
  add_toxic("timeout", {{"timeout", 100}});
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  send_all(client.get(), "x");
  Drained back = read_to_end(client.get());
  EXPECT_TRUE(back.eof || back.error == ECONNRESET);
  EXPECT_TRUE(back.data.empty());
}

TEST_F(ProxyTest, ResetPeerGivesTheClientConnectionReset) {
  add_toxic("reset_peer", {{"timeout", 0}});
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  Drained back = read_to_end(client.get());
  EXPECT_FALSE(back.eof);
  EXPECT_EQ(back.error, ECONNRESET);
}

TEST_F(ProxyTest, LimitDataClosesAfterExactlyThatManyBytes) {
  add_toxic("limit_data", {{"bytes", 1000}});
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  const std::string payload = random_bytes(5000, 3);
  ASSERT_TRUE(send_all(client.get(), payload));
  Drained back = read_to_end(client.get());
  EXPECT_TRUE(back.eof);
  EXPECT_EQ(back.data, payload.substr(0, 1000));
}

TEST_F(ProxyTest, BandwidthSlowsATransferToAboutTheRate) {
  add_toxic("bandwidth", {{"rate", 50}});  // 50 KB/s
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  const std::string payload = random_bytes(50'000, 4);
  auto start = Clock::now();
  ASSERT_TRUE(send_all(client.get(), payload));
  EXPECT_EQ(read_exactly(client.get(), payload.size()), payload);
  EXPECT_GE(Clock::now() - start, 900ms);  // one second less the first burst
}

TEST_F(ProxyTest, SlicerDeliversEveryByteInOrder) {
  add_toxic("slicer", {{"average_size", 64}, {"size_variation", 32}, {"delay", 10}});
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  const std::string payload = random_bytes(64 * 1024, 5);
  ASSERT_TRUE(send_all(client.get(), payload));
  EXPECT_TRUE(read_exactly(client.get(), payload.size()) == payload);
}

TEST_F(ProxyTest, SlowCloseHoldsTheEndOfStreamBack) {
  add_toxic("slow_close", {{"delay", 300}});
  net::Fd client = connect_to(port_);
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(send_all(client.get(), "bye"));
  auto start = Clock::now();
  ::shutdown(client.get(), SHUT_WR);
  Drained back = read_to_end(client.get());
  EXPECT_EQ(back.data, "bye");
  EXPECT_TRUE(back.eof);
  EXPECT_GE(Clock::now() - start, 300ms);
}

TEST_F(ProxyTest, ADisabledProxyRefusesConnectionsAndClosesOpenOnes) {
  net::Fd open = connect_to(port_);
  ASSERT_TRUE(open.valid());
  ASSERT_TRUE(ping(open.get()));
  ProxyUpdate off;
  off.enabled = false;
  ASSERT_TRUE(engine_->update_proxy("echo", off).ok());
  Drained ended = read_to_end(open.get());
  EXPECT_TRUE(ended.eof || ended.error == ECONNRESET);
  errno = 0;
  EXPECT_FALSE(connect_to(port_).valid());
  EXPECT_EQ(errno, ECONNREFUSED);

  ProxyUpdate on;
  on.enabled = true;
  ASSERT_TRUE(engine_->update_proxy("echo", on).ok());
  net::Fd again = connect_to(port_);
  ASSERT_TRUE(again.valid());
  EXPECT_TRUE(ping(again.get()));
}

TEST_F(ProxyTest, AnUnreachableUpstreamClosesTheClient) {
  int dead_port = testing::free_port();
  auto made = engine_->create_proxy({"dead", "127.0.0.1:0", "127.0.0.1:" + std::to_string(dead_port), true});
  ASSERT_TRUE(made.ok()) << made.failure().message;
  int port = std::stoi(made.value().listen.substr(made.value().listen.rfind(':') + 1));
  net::Fd client = connect_to(port);
  ASSERT_TRUE(client.valid());
  Drained back = read_to_end(client.get());
  EXPECT_TRUE(back.eof || back.error == ECONNRESET);
}

// The child side of the descriptor-starvation test: an engine whose RLIMIT_NOFILE leaves room for
// exactly `connections` proxied connections (two descriptors each). Reads the upstream port from
// `control`, writes the proxy's port to `report`, then runs until `control` closes.
[[noreturn]] void run_starved_engine(int control, int report, int connections) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Only the standard streams and the two pipes stay open, so the count below is exact.
  int low = std::min(control, report), high = std::max(control, report);
  ::close_range(3, static_cast<unsigned>(low - 1), 0);
  ::close_range(static_cast<unsigned>(low + 1), static_cast<unsigned>(high - 1), 0);
  ::close_range(static_cast<unsigned>(high + 1), ~0U, 0);
  std::int32_t upstream_port = 0;
  if (::read(control, &upstream_port, sizeof upstream_port) != sizeof upstream_port) ::_exit(2);
  auto started = Engine::start({});
  if (!started.ok()) ::_exit(3);
  auto engine = std::move(started).value();
  auto made = engine->create_proxy({"tight", "127.0.0.1:0", "127.0.0.1:" + std::to_string(upstream_port), true});
  if (!made.ok()) ::_exit(4);
  std::int32_t port = std::stoi(made.value().listen.substr(made.value().listen.rfind(':') + 1));
  // Fill the holes below the highest open descriptor, then allow exactly 2 * connections more.
  int highest = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) highest = fd;
  }
  for (int fd = 0; fd < highest; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0 && ::open("/dev/null", O_RDONLY) < 0) ::_exit(5);
  }
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = static_cast<rlim_t>(highest + 1 + 2 * connections);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(6);
  if (::write(report, &port, sizeof port) != sizeof port) ::_exit(7);
  char byte = 0;
  while (::read(control, &byte, 1) > 0) {
  }
  ::_exit(0);  // the engine's thread dies with the process
}

TEST(ProxyDescriptors, ClientsQueuedWhileOutOfDescriptorsAreServedWhenConnectionsClose) {
  int to_child[2];
  int from_child[2];
  ASSERT_EQ(::pipe2(to_child, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(from_child, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) run_starved_engine(to_child[0], from_child[1], 2);
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid <= 0) return;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reaper{pid};
  ::close(to_child[0]);
  ::close(from_child[1]);
  net::Fd control(to_child[1]);
  net::Fd report(from_child[0]);

  EchoServer echo;
  std::int32_t upstream_port = echo.port();
  ASSERT_EQ(::write(control.get(), &upstream_port, sizeof upstream_port), static_cast<ssize_t>(sizeof upstream_port));
  ASSERT_TRUE(readable_within(report.get(), 10s));
  std::int32_t port = 0;
  ASSERT_EQ(::read(report.get(), &port, sizeof port), static_cast<ssize_t>(sizeof port));

  auto ping = [](int fd, const std::string& message) {
    return send_all(fd, message) && read_exactly(fd, message.size()) == message;
  };
  // Room for two connections: both are served.
  net::Fd first = connect_to(port);
  net::Fd second = connect_to(port);
  ASSERT_TRUE(first.valid() && second.valid());
  ASSERT_TRUE(ping(first.get(), "first"));
  ASSERT_TRUE(ping(second.get(), "second"));
  // Three more wait in the backlog: the proxy has no descriptors left for them.
  std::vector<net::Fd> queued;
  for (int i = 0; i < 3; ++i) {
    queued.push_back(connect_to(port));
    ASSERT_TRUE(queued.back().valid());
    ASSERT_TRUE(send_all(queued.back().get(), "queued" + std::to_string(i)));
  }
  EXPECT_FALSE(readable_within(queued[0].get(), 200ms));
  // Each connection that ends frees two descriptors, and the oldest queued client is served,
  // with no new client arriving to wake the listener.
  first.reset();
  EXPECT_EQ(read_exactly(queued[0].get(), 7), "queued0");
  second.reset();
  EXPECT_EQ(read_exactly(queued[1].get(), 7), "queued1");
  queued[0].reset();
  EXPECT_EQ(read_exactly(queued[2].get(), 7), "queued2");
  EXPECT_TRUE(ping(queued[2].get(), "again"));

  control.reset();  // the child exits
  int status = 0;
  ASSERT_TRUE(wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }));
  reaper.pid = -1;  // reaped; kill(-1) would signal everything, so do not
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// The control API on a real HTTP server, as `chaosplus proxy` serves it.
class ProxyApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = Engine::start({});
    ASSERT_TRUE(started.ok()) << started.error();
    engine_ = std::move(started).value();
    api_ = std::make_unique<ControlApi>(*engine_);
    server_ = std::make_unique<net::HttpServer>(net::HttpServer::Options{},
                                                [this](const net::Request& r) { return api_->handle(r); });
    auto ok = server_->start();
    ASSERT_TRUE(ok.ok()) << ok.error();
  }
  void TearDown() override { server_->stop(); }

  testing::HttpReply request(const std::string& method, const std::string& target, const std::string& body = {}) {
    return testing::http_request(method, "127.0.0.1", server_->port(), target, body);
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  EchoServer echo_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ControlApi> api_;
  std::unique_ptr<net::HttpServer> server_;
};

TEST_F(ProxyApiTest, BadRequestsGet4xxWithReasonsAndTheProxyServesAfterwards) {
  struct Case {
    std::string method, target, body, reason;
    int status;
  };
  std::vector<Case> cases = {
      {"POST", "/proxies", "not json", "invalid JSON", 400},
      {"POST", "/proxies", R"({"name":"p","listen":"127.0.0.1:0"})", "upstream", 400},
      {"POST", "/proxies", R"({"name":"p","listen":"0.0.0.0:0","upstream":"127.0.0.1:1"})", "loopback", 400},
      {"POST", "/proxies", R"({"name":"p","listen":"10.1.2.3:0","upstream":"127.0.0.1:1"})", "loopback", 400},
      {"POST", "/proxies", R"({"name":"p q","listen":"127.0.0.1:0","upstream":"127.0.0.1:1"})", "proxy name", 400},
      {"POST", "/proxies/none/toxics", R"({"type":"latency","attributes":{"latency":1}})", "not found", 404},
      {"GET", "/proxies/none", "", "not found", 404},
  };
  for (const auto& c : cases) {
    auto reply = request(c.method, c.target, c.body);
    EXPECT_EQ(reply.status, c.status) << c.target << " " << c.body;
    auto body = json::parse(reply.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << reply.body;
    EXPECT_NE(body.value("error", std::string()).find(c.reason), std::string::npos) << reply.body;
    EXPECT_EQ(body.value("status", 0), c.status);
  }

  auto created =
      request("POST", "/proxies", json{{"name", "p"}, {"listen", "127.0.0.1:0"}, {"upstream", echo_.address()}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  for (const char* bad :
       {R"({"type":"nope"})", R"({"type":"latency"})", R"({"type":"latency","attributes":{"latency":-1}})",
        R"({"type":"latency","toxicity":7,"attributes":{"latency":1}})", "[1,2"}) {
    auto reply = request("POST", "/proxies/p/toxics", bad);
    EXPECT_EQ(reply.status, 400) << bad << " -> " << reply.body;
    EXPECT_FALSE(json::parse(reply.body, nullptr, false).value("error", std::string()).empty()) << reply.body;
  }

  std::string listen = json::parse(created.body)["listen"];
  net::Fd client = connect_to(std::stoi(listen.substr(listen.rfind(':') + 1)));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(send_all(client.get(), "still here"));
  EXPECT_EQ(read_exactly(client.get(), 10), "still here");
  EXPECT_EQ(request("GET", "/version").status, 200);
}

TEST_F(ProxyApiTest, TheApiClientDrivesAProxyServer) {
  ApiClient client(base_url());
  ASSERT_TRUE(client.create_proxy("svc", "127.0.0.1:0", echo_.address()).ok());
  auto listed = client.get_proxies_json();
  ASSERT_TRUE(listed.ok()) << listed.error();
  auto proxies = json::parse(*listed);
  ASSERT_TRUE(proxies.contains("svc"));
  std::string listen = proxies["svc"]["listen"];
  int port = std::stoi(listen.substr(listen.rfind(':') + 1));

  auto added = client.add_toxic("svc", "slow", "latency", "downstream", 1.0, {{"latency", 250.0}});
  ASSERT_TRUE(added.ok()) << added.error();
  {
    net::Fd conn = connect_to(port);
    auto start = Clock::now();
    ASSERT_TRUE(send_all(conn.get(), "hi"));
    EXPECT_EQ(read_exactly(conn.get(), 2), "hi");
    EXPECT_GE(Clock::now() - start, 250ms);
  }
  EXPECT_TRUE(client.remove_toxic("svc", "slow").ok());
  EXPECT_TRUE(client.remove_toxic("svc", "slow").ok());  // idempotent

  ASSERT_TRUE(client.set_enabled("svc", false).ok());
  EXPECT_FALSE(connect_to(port).valid());
  ASSERT_TRUE(client.set_enabled("svc", true).ok());
  EXPECT_TRUE(connect_to(port).valid());

  auto bad = client.add_toxic("svc", "x", "gremlin", "downstream", 1.0, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("unknown toxic type"), std::string::npos) << bad.error();
  auto negative = client.add_toxic("svc", "y", "latency", "downstream", 1.0, {{"latency", -5.0}});
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().find("'latency'"), std::string::npos) << negative.error();
  ASSERT_TRUE(client.add_toxic("svc", "z", "bandwidth", "upstream", 0.5, {{"rate", 1.6}}).ok());
  auto toxic = json::parse(client.get_proxies_json().value())["svc"]["toxics"][0];
  EXPECT_EQ(toxic["attributes"]["rate"], 2);  // rounded to a whole KB/s
  EXPECT_EQ(toxic["toxicity"], 0.5);
  EXPECT_EQ(toxic["stream"], "upstream");

  EXPECT_TRUE(client.delete_proxy("svc").ok());
  EXPECT_TRUE(client.delete_proxy("svc").ok());  // idempotent
}

TEST_F(ProxyApiTest, TheApiClientSendsItsBearerToken) {
  ControlApi guarded(*engine_, "t0ken");
  net::HttpServer server({}, [&](const net::Request& r) { return guarded.handle(r); });
  ASSERT_TRUE(server.start().ok());
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto refused = ApiClient(url).get_proxies_json();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("401"), std::string::npos) << refused.error();
  EXPECT_TRUE(ApiClient(url, "t0ken").get_proxies_json().ok());
  server.stop();
}

TEST(ProxyServer, ServesTheApiUntilHaltedThenReturnsZero) {
  int port = testing::free_port();
  HaltSwitch halt;
  int code = -1;
  std::thread server([&] { code = run_server({"127.0.0.1", port, ""}, halt); });
  ApiClient client("http://127.0.0.1:" + std::to_string(port));
  EXPECT_TRUE(wait_until([&] { return client.get_proxies_json().ok(); }));
  halt.trigger("test over");
  server.join();
  EXPECT_EQ(code, 0);
}

// The pids of `pid`'s children.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::istringstream in(
      testing::read_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children"));
  for (pid_t child = 0; in >> child;) out.push_back(child);
  return out;
}

std::size_t sockets_of(pid_t pid) {
  std::size_t count = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
    std::error_code ignored;
    if (std::filesystem::read_symlink(entry.path(), ignored).string().starts_with("socket:")) ++count;
  }
  return count;
}

// The API port a `chaosplus proxy --api 127.0.0.1:0` prints; 0 if it never does.
int api_port_of(testing::Child& proxy) {
  int port = 0;
  wait_until([&] {
    auto at = proxy.output().find("listening on 127.0.0.1:");
    if (at == std::string::npos) return false;
    port = std::stoi(proxy.output().substr(at + 23));
    return true;
  });
  return port;
}

TEST(ProxyWorkers, AWorkerServesConnectionsOnTheSamePortAndTakesEveryToxic) {
  EchoServer echo;
  testing::Child proxy({testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0", "--no-token", "--workers", "1"});
  const int api_port = api_port_of(proxy);
  ASSERT_GT(api_port, 0) << proxy.output();
  auto api = [&](const std::string& method, const std::string& target, const std::string& body = {}) {
    return testing::http_request(method, "127.0.0.1", api_port, target, body);
  };
  auto created =
      api("POST", "/proxies", json{{"name", "e"}, {"listen", "127.0.0.1:0"}, {"upstream", echo.address()}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto listen = json::parse(created.body)["listen"].get<std::string>();
  int port = std::stoi(listen.substr(listen.rfind(':') + 1));
  std::vector<pid_t> workers = children_of(proxy.pid());
  ASSERT_EQ(workers.size(), 1u);
  const std::size_t idle_sockets = sockets_of(workers[0]);  // its listener and its channel

  // The kernel spreads connections over both processes' listeners: with 64 connections the
  // chance that the worker gets none is 2^-64.
  std::vector<net::Fd> clients;
  for (int i = 0; i < 64; ++i) {
    clients.push_back(connect_to(port));
    ASSERT_TRUE(clients.back().valid());
    ASSERT_TRUE(send_all(clients.back().get(), "hello") && read_exactly(clients.back().get(), 5) == "hello");
  }
  EXPECT_GE(sockets_of(workers[0]), idle_sockets + 2);

  // A toxic added through the API acts on the live connections of every process once answered.
  auto added = api("POST", "/proxies/e/toxics",
                   json{{"type", "latency"}, {"stream", "downstream"}, {"attributes", {{"latency", 300}}}}.dump());
  ASSERT_EQ(added.status, 200) << added.body;
  auto start = Clock::now();
  for (auto& client : clients) ASSERT_TRUE(send_all(client.get(), "slow!"));
  for (auto& client : clients) {
    EXPECT_EQ(read_exactly(client.get(), 5), "slow!");
    EXPECT_GE(Clock::now() - start, 300ms);
  }
  ASSERT_EQ(api("DELETE", "/proxies/e/toxics/latency_downstream").status, 204);
  for (auto& client : clients) {
    EXPECT_TRUE(send_all(client.get(), "fast") && read_exactly(client.get(), 4) == "fast");
  }
  // The API answers as before: one proxy, no toxic.
  auto listed = json::parse(api("GET", "/proxies").body);
  EXPECT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed["e"]["toxics"].empty());

  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(20s), 0);
  EXPECT_TRUE(wait_until([&] { return ::kill(workers[0], 0) != 0; }));
}

TEST(ProxyWorkers, AfterAWorkerAnsweredTooLateTheNextChangeWaitsForItsOwnAnswer) {
  EchoServer echo;
  testing::Child proxy({testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0", "--no-token", "--workers", "1"});
  const int api_port = api_port_of(proxy);
  ASSERT_GT(api_port, 0) << proxy.output();
  auto api = [&](const std::string& method, const std::string& target, const std::string& body = {}) {
    return testing::http_request(method, "127.0.0.1", api_port, target, body, 20s);
  };
  auto created =
      api("POST", "/proxies", json{{"name", "e"}, {"listen", "127.0.0.1:0"}, {"upstream", echo.address()}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto listen = json::parse(created.body)["listen"].get<std::string>();
  const int port = std::stoi(listen.substr(listen.rfind(':') + 1));
  std::vector<pid_t> workers = children_of(proxy.pid());
  ASSERT_EQ(workers.size(), 1u);
  std::vector<net::Fd> clients;
  for (int i = 0; i < 64; ++i) {
    clients.push_back(connect_to(port));
    ASSERT_TRUE(send_all(clients.back().get(), "hi") && read_exactly(clients.back().get(), 2) == "hi");
  }
  // The worker is frozen past the API's 5 s wait: that change is a 500. Its late answer must not
  // be taken as the answer to the next change.
  ASSERT_EQ(::kill(workers[0], SIGSTOP), 0);
  auto stalled = api("POST", "/proxies/e/toxics",
                     json{{"name", "t1"}, {"type", "latency"}, {"attributes", {{"latency", 1}}}}.dump());
  EXPECT_EQ(stalled.status, 500) << stalled.body;
  ASSERT_EQ(::kill(workers[0], SIGCONT), 0);
  auto added = api("POST", "/proxies/e/toxics",
                   json{{"name", "slow"}, {"type", "latency"}, {"attributes", {{"latency", 300}}}}.dump());
  ASSERT_EQ(added.status, 200) << added.body;
  // Once answered, the toxic acts on the live connections of both processes.
  const auto start = Clock::now();
  for (auto& client : clients) ASSERT_TRUE(send_all(client.get(), "yo"));
  for (auto& client : clients) {
    EXPECT_EQ(read_exactly(client.get(), 2), "yo");
    EXPECT_GE(Clock::now() - start, 300ms);
  }
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(20s), 0);
}

// Issue 9: what a toxic touched is counted in every process that serves its proxy, and the API
// answers the sum: 64 connections spread over two processes count 64, not the API process's share.
TEST(ProxyWorkers, AToxicsStatsAreSummedOverEveryProcess) {
  EchoServer echo;
  testing::Child proxy({testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0", "--no-token", "--workers", "1"});
  const int api_port = api_port_of(proxy);
  ASSERT_GT(api_port, 0) << proxy.output();
  auto api = [&](const std::string& method, const std::string& target, const std::string& body = {}) {
    return testing::http_request(method, "127.0.0.1", api_port, target, body, 20s);
  };
  auto created =
      api("POST", "/proxies", json{{"name", "e"}, {"listen", "127.0.0.1:0"}, {"upstream", echo.address()}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto listen = json::parse(created.body)["listen"].get<std::string>();
  const int port = std::stoi(listen.substr(listen.rfind(':') + 1));
  auto added = api("POST", "/proxies/e/toxics",
                   json{{"name", "slow"}, {"type", "latency"}, {"attributes", {{"latency", 1}}}}.dump());
  ASSERT_EQ(added.status, 200) << added.body;
  std::vector<net::Fd> clients;
  for (int i = 0; i < 64; ++i) {
    clients.push_back(connect_to(port));
    ASSERT_TRUE(send_all(clients.back().get(), "hi") && read_exactly(clients.back().get(), 2) == "hi");
  }
  auto stats = api("GET", "/proxies/e/toxics/slow/stats");
  ASSERT_EQ(stats.status, 200) << stats.body;
  auto counts = json::parse(stats.body);
  EXPECT_EQ(counts["connections"], 64) << stats.body;
  EXPECT_EQ(counts["connections_skipped"], 0) << stats.body;
  EXPECT_EQ(counts["bytes"], 128) << stats.body;  // "hi" back from the server on each (downstream)
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(20s), 0);
}

// A byte-level toxic counts the HTTP requests that went through the connections it acted on: with
// keep-alive one draw covers every request on the connection.
TEST(ProxyServer, AByteToxicCountsTheRequestsOnTheConnectionsItHit) {
  EchoServer echo;
  testing::Child proxy({testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0", "--no-token"});
  const int api_port = api_port_of(proxy);
  ASSERT_GT(api_port, 0) << proxy.output();
  auto api = [&](const std::string& method, const std::string& target, const std::string& body = {}) {
    return testing::http_request(method, "127.0.0.1", api_port, target, body, 20s);
  };
  auto created =
      api("POST", "/proxies", json{{"name", "e"}, {"listen", "127.0.0.1:0"}, {"upstream", echo.address()}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto listen = json::parse(created.body)["listen"].get<std::string>();
  const int port = std::stoi(listen.substr(listen.rfind(':') + 1));
  ASSERT_EQ(
      api("POST", "/proxies/e/toxics",
          json{{"name", "slow"}, {"type", "latency"}, {"stream", "upstream"}, {"attributes", {{"latency", 1}}}}.dump())
          .status,
      200);
  const std::string request = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  net::Fd client = connect_to(port);
  ASSERT_TRUE(send_all(client.get(), request + request + request));  // three on one connection
  EXPECT_EQ(read_exactly(client.get(), 3 * request.size()), request + request + request);
  auto counts = json::parse(api("GET", "/proxies/e/toxics/slow/stats").body);
  EXPECT_EQ(counts["connections"], 1) << counts.dump();
  EXPECT_EQ(counts["requests"], 3) << counts.dump();
  EXPECT_EQ(counts["bytes"], 3 * request.size()) << counts.dump();
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(20s), 0);
}

TEST(ProxyWorkers, AChangeAWorkerCannotTakeIsAnErrorForTheClient) {
  testing::Child proxy({testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0", "--no-token", "--workers", "1"});
  const int api_port = api_port_of(proxy);
  ASSERT_GT(api_port, 0) << proxy.output();
  std::vector<pid_t> workers = children_of(proxy.pid());
  ASSERT_EQ(workers.size(), 1u);
  ASSERT_EQ(::kill(workers[0], SIGKILL), 0);
  ASSERT_TRUE(wait_until([&] { return testing::pid_gone(workers[0]); }));
  auto created =
      testing::http_request("POST", "127.0.0.1", api_port, "/proxies",
                            json{{"name", "e"}, {"listen", "127.0.0.1:0"}, {"upstream", "127.0.0.1:9"}}.dump());
  EXPECT_EQ(created.status, 500) << created.body;
  EXPECT_NE(created.body.find("worker process did not take it"), std::string::npos) << created.body;
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(20s), 0);
}

TEST(ProxyServer, TheTokenCanComeFromTheEnvironmentInsteadOfTheProcessList) {
  testing::Child proxy({testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0"},
                       {{"CHAOSPLUS_PROXY_TOKEN", "s3cret"}});
  const int api_port = api_port_of(proxy);
  ASSERT_GT(api_port, 0) << proxy.output();
  const std::string url = "http://127.0.0.1:" + std::to_string(api_port);
  auto refused = ApiClient(url).get_proxies_json();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("401"), std::string::npos) << refused.error();
  EXPECT_TRUE(ApiClient(url, "s3cret").get_proxies_json().ok());
  EXPECT_EQ(testing::read_file("/proc/" + std::to_string(proxy.pid()) + "/cmdline").find("s3cret"), std::string::npos);
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(20s), 0);
}

// One request to a `chaosplus proxy` API with its bearer token; status 0 if no answer came.
testing::HttpReply api_call(int port, const std::string& token, const std::string& method, const std::string& target,
                            const std::string& body = {}, Duration timeout = 20s) {
  auto url = net::Url::parse("http://127.0.0.1:" + std::to_string(port) + target);
  if (!url) return {};
  net::Request request;
  request.method = method;
  request.target = url->target;
  request.body = body;
  request.set_header("Authorization", "Bearer " + token);
  auto response = net::fetch(*url, std::move(request), timeout);
  if (!response) return {0, response.error()};
  return {response->status, response->body};
}

TEST(ProxyServer, AMillionLevelsOfNestingAreRefusedAtEveryJsonRouteAndTheProxyServesOn) {
  EchoServer echo;
  testing::Child proxy({testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0"},
                       {{"CHAOSPLUS_PROXY_TOKEN", "deep-t0ken"}});
  const int port = api_port_of(proxy);
  ASSERT_GT(port, 0) << proxy.output();
  auto api = [&](const std::string& method, const std::string& target, const std::string& body = {}) {
    return api_call(port, "deep-t0ken", method, target, body);
  };
  auto created =
      api("POST", "/proxies", json{{"name", "p"}, {"listen", "127.0.0.1:0"}, {"upstream", echo.address()}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_EQ(api("POST", "/proxies/p/toxics", R"({"name":"slow","type":"latency","attributes":{"latency":1}})").status,
            200);
  // Each route with a field its handler reads first, so the old code's error message would quote
  // (recursively print) the deep value.
  struct Route {
    std::string method, target, field;
  };
  const std::vector<Route> routes = {{"POST", "/proxies", "name"},
                                     {"POST", "/proxies/p", "listen"},
                                     {"PATCH", "/proxies/p", "listen"},
                                     {"POST", "/populate", "name"},
                                     {"POST", "/proxies/p/toxics", "name"},
                                     {"POST", "/proxies/p/toxics/slow", "toxicity"},
                                     {"PATCH", "/proxies/p/toxics/slow", "toxicity"}};
  constexpr std::size_t kDepth = 1'000'000;
  std::string arrays = std::string(kDepth, '[') + std::string(kDepth, ']');
  std::string objects;
  objects.reserve(kDepth * 6);
  for (std::size_t i = 0; i + 1 < kDepth; ++i) objects += "{\"a\":";
  objects += "{}" + std::string(kDepth - 1, '}');
  for (const std::string* deep : {&arrays, &objects}) {
    for (const auto& route : routes) {
      std::string body = "{\"" + route.field + "\":" + *deep + ",\"upstream\":\"127.0.0.1:1\"}";
      if (route.target == "/populate") body = "[" + body + "]";
      for (const std::string& sent : {body, std::string(kDepth, deep->front())}) {  // whole, and never closed
        auto reply = api(route.method, route.target, sent);
        EXPECT_GE(reply.status, 400) << route.method << " " << route.target << ": " << reply.body;
        EXPECT_LT(reply.status, 500) << route.method << " " << route.target << ": " << reply.body;
        auto answer = json::parse(reply.body, nullptr, false);
        ASSERT_TRUE(answer.is_object()) << route.method << " " << route.target << ": " << reply.body.substr(0, 200);
        EXPECT_NE(answer.value("error", std::string()).find("nested deeper than"), std::string::npos) << reply.body;
        ASSERT_TRUE(proxy.running()) << "the proxy died on " << route.method << " " << route.target << ":\n"
                                     << proxy.output();
      }
    }
  }
  // The server's own refusals are JSON too: a body over the 8 MiB limit is a 413 with a reason,
  // told as soon as the head announces it.
  {
    net::Fd raw = connect_to(port);
    ASSERT_TRUE(raw.valid());
    ASSERT_TRUE(send_all(raw.get(),
                         "POST /proxies HTTP/1.1\r\nAuthorization: Bearer deep-t0ken\r\n"
                         "Content-Length: 9437184\r\n\r\n[[[["));
    const std::string answer = read_exactly(raw.get(), 1 << 16);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
    EXPECT_NE(answer.find("application/json"), std::string::npos) << answer;
    EXPECT_NE(answer.find("{\"error\":"), std::string::npos) << answer;
  }

  auto listen = json::parse(created.body)["listen"].get<std::string>();
  net::Fd client = connect_to(std::stoi(listen.substr(listen.rfind(':') + 1)));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(send_all(client.get(), "still here"));
  EXPECT_EQ(read_exactly(client.get(), 10), "still here");
  EXPECT_EQ(api("GET", "/proxies/p/toxics/slow").status, 200);
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(20s), 0);
}

TEST(ProxyServer, TwoThousandIdleConnectionsDoNotKeepAnAuthenticatedClientFromChangingAToxic) {
  // 2,000 client sockets here, and as many on the proxy's side until it drops them.
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 2'500 && limit.rlim_max >= 2'500) {
    limit.rlim_cur = limit.rlim_max;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  ASSERT_GE(limit.rlim_cur, 2'500u) << "the descriptor limit is too low for this test";
  testing::Child proxy({testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0"},
                       {{"CHAOSPLUS_PROXY_TOKEN", "idle-t0ken"}});
  const int port = api_port_of(proxy);
  ASSERT_GT(port, 0) << proxy.output();
  auto created = api_call(port, "idle-t0ken", "POST", "/proxies",
                          json{{"name", "p"}, {"listen", "127.0.0.1:0"}, {"upstream", "127.0.0.1:9"}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_EQ(api_call(port, "idle-t0ken", "POST", "/proxies/p/toxics",
                     R"({"name":"slow","type":"latency","attributes":{"latency":1}})")
                .status,
            200);

  // Connected and silent, more of them than the API's 512 connections: before the fix, every
  // client got 503 until they timed out 30 s later.
  std::vector<net::Fd> idle;
  for (int i = 0; i < 2'000; ++i) {
    net::Fd fd = connect_to(port);
    ASSERT_TRUE(fd.valid()) << "connection " << i << ": " << std::strerror(errno);
    idle.push_back(std::move(fd));
  }
  auto changed = api_call(port, "idle-t0ken", "POST", "/proxies/p/toxics/slow", R"({"attributes":{"latency":250}})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(json::parse(changed.body)["attributes"]["latency"], 250);
  // Without the token it is still refused, idle crowd or not.
  EXPECT_EQ(api_call(port, "wrong", "POST", "/proxies/p/toxics/slow", R"({"attributes":{"latency":1}})").status, 401);
  EXPECT_TRUE(proxy.running());
  idle.clear();
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(20s), 0);
}

// The address a parent learns comes through the FIFO it gives, not from the log (this is how
// `chaosplus run` finds the proxy it starts); with nobody reading, the proxy says so and stops.
TEST(ProxyServer, TellsItsApiAddressOnTheFifoItIsGiven) {
  testing::TempDir dir;
  const std::string fifo = dir.file("address");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0) << std::strerror(errno);
  testing::Child proxy(
      {testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0", "--no-token", "--address-to", fifo});
  std::string got;
  ASSERT_TRUE(wait_until([&] {
    char buf[128];
    for (ssize_t n; (n = ::read(reader, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
    return got.find('\n') != std::string::npos;
  })) << proxy.output();
  ::close(reader);
  ASSERT_TRUE(got.starts_with("127.0.0.1:")) << got;
  const int port = std::stoi(got.substr(10));
  EXPECT_EQ(testing::http_request("GET", "127.0.0.1", port, "/version").status, 200);
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(20s), 0);

  testing::Child unread(
      {testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0", "--no-token", "--address-to", fifo});
  EXPECT_EQ(unread.wait(20s), 3);
  EXPECT_NE(unread.output().find("cannot tell the API address on " + fifo), std::string::npos) << unread.output();
}

TEST(ProxyServer, WithoutATokenOptionItMakesOneAndSaysItOnce) {
  testing::Child proxy({testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0"});
  const int port = api_port_of(proxy);
  ASSERT_GT(port, 0) << proxy.output();
  std::string token;
  ASSERT_TRUE(wait_until([&] {
    const std::string out = proxy.output();
    const auto at = out.find("API token ");
    if (at == std::string::npos) return false;
    token = out.substr(at + 10, 32);
    return true;
  })) << proxy.output();
  EXPECT_EQ(token.size(), 32u);
  EXPECT_EQ(testing::http_request("GET", "127.0.0.1", port, "/proxies").status, 401);
  EXPECT_EQ(api_call(port, token, "GET", "/proxies").status, 200);
  EXPECT_EQ(api_call(port, token, "GET", "/version").status, 200);
  // Said once at start, not on each request.
  const std::string out = proxy.output();
  EXPECT_EQ(out.find(token, out.find(token) + token.size()), std::string::npos) << out;
  EXPECT_EQ(testing::read_file("/proc/" + std::to_string(proxy.pid()) + "/cmdline").find(token), std::string::npos);
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(20s), 0);

  testing::Child open({testing::bin("chaosplus"), "proxy", "--api", "127.0.0.1:0", "--no-token"});
  const int open_port = api_port_of(open);
  ASSERT_GT(open_port, 0) << open.output();
  EXPECT_EQ(testing::http_request("GET", "127.0.0.1", open_port, "/proxies").status, 200);
  EXPECT_EQ(open.output().find("API token"), std::string::npos) << open.output();
  open.signal(SIGTERM);
  EXPECT_EQ(open.wait(20s), 0);
}

TEST(ProxyServer, ReturnsThreeWhenTheApiAddressIsTaken) {
  net::Fd taken(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(taken.get(), 1), 0);
  socklen_t length = sizeof address;
  ::getsockname(taken.get(), reinterpret_cast<sockaddr*>(&address), &length);
  HaltSwitch halt;
  EXPECT_EQ(run_server({"127.0.0.1", ntohs(address.sin_port), ""}, halt), 3);
}

}  // namespace
}  // namespace chaosplus::proxy
