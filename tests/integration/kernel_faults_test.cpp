// Kernel-level faults on the real kernel, proven with real traffic: nftables packet faults on loopback
// ports of the host and between two network namespaces the test creates, and a tbf bandwidth limit on
// a veth inside one. After every revert path (revert, a second revert, undo from the ledger record by
// a fresh `chaosplus recover` process) the rule set and the qdiscs read byte for byte as before, and
// no table, namespace or interface is left behind.
//
// Needs root and nft, tc, ip (Debian packages nftables, iproute2). Without them every test FAILS, on
// purpose: CI runs as root, so a skip would hide a broken setup.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "faults/fault.h"
#include "faults/netns.h"
#include "faults/nft_faults.h"
#include "faults/system_tool.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "faults/veth_lab.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "support/kernel.h"
#include "support/support.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---- sockets -------------------------------------------------------------------------------------

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

sockaddr_in ipv4(const std::string& address, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
  return a;
}

void set_timeouts(int fd, std::chrono::milliseconds t) {
  timeval tv{static_cast<time_t>(t.count() / 1000), static_cast<suseconds_t>(t.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Fd make_socket(const std::string& netns, int type) {
  auto fd = socket_in_namespace(netns, AF_INET, type);
  EXPECT_TRUE(fd.ok()) << fd.error();
  if (!fd) return Fd();
  set_timeouts(*fd, 20s);
  return Fd(*fd);
}

int local_port(const Fd& fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// A listening TCP socket on `address`, port chosen by the kernel, in `netns` ("" = ours).
Fd listener(const std::string& netns, const std::string& address) {
  Fd fd = make_socket(netns, SOCK_STREAM);
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = ipv4(address, 0);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  EXPECT_EQ(::listen(fd.get(), 64), 0);
  return fd;
}

enum class Connect { connected, refused, timed_out, failed };

const char* to_string(Connect c) {
  switch (c) {
    case Connect::connected: return "connected";
    case Connect::refused: return "refused";
    case Connect::timed_out: return "timed out";
    case Connect::failed: return "failed";
  }
  return "?";
}

struct Connection {
  Connect outcome = Connect::failed;
  Fd fd;
};

Connection connect_to(const std::string& netns, const std::string& address, int port,
                      std::chrono::milliseconds timeout) {
  Connection c;
  c.fd = make_socket(netns, SOCK_STREAM);
  const int flags = ::fcntl(c.fd.get(), F_GETFL);
  ::fcntl(c.fd.get(), F_SETFL, flags | O_NONBLOCK);
  sockaddr_in a = ipv4(address, port);
  if (::connect(c.fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    c.outcome = errno == ECONNREFUSED ? Connect::refused : Connect::failed;
    return c;
  }
  pollfd p{c.fd.get(), POLLOUT, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready == 0) {
    c.outcome = Connect::timed_out;
    return c;
  }
  int error = 0;
  socklen_t len = sizeof error;
  ::getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
  ::fcntl(c.fd.get(), F_SETFL, flags);
  c.outcome = error == 0 ? Connect::connected : error == ECONNREFUSED ? Connect::refused : Connect::failed;
  return c;
}

Fd accept_one(const Fd& listening, std::chrono::milliseconds timeout) {
  pollfd p{listening.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return Fd();
  Fd fd(::accept4(listening.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (fd.valid()) set_timeouts(fd.get(), 20s);
  return fd;
}

// Reads until `n` bytes came or `timeout` passed; what arrived.
std::string receive(const Fd& fd, std::size_t n, std::chrono::milliseconds timeout) {
  std::string got;
  const auto deadline = Clock::now() + timeout;
  char buf[64 * 1024];
  while (got.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) != 1) break;
    const ssize_t r = ::recv(fd.get(), buf, std::min(sizeof buf, n - got.size()), 0);
    if (r <= 0) break;
    got.append(buf, static_cast<std::size_t>(r));
  }
  return got;
}

// errno of the first failing recv within `timeout` (0 = EOF, -1 = none came).
int receive_error(const Fd& fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(left, 1))) != 1) continue;
    const ssize_t r = ::recv(fd.get(), buf, sizeof buf, 0);
    if (r < 0) return errno;
    if (r == 0) return 0;
  }
  return -1;
}

bool send_all(const Fd& fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// A connected client/server pair through `listening`.
struct Pair {
  Fd client;
  Fd server;
};

Pair connected_pair(const std::string& client_netns, const Fd& listening, const std::string& address) {
  Pair pair;
  auto c = connect_to(client_netns, address, local_port(listening), 5s);
  EXPECT_EQ(c.outcome, Connect::connected) << to_string(c.outcome);
  pair.client = std::move(c.fd);
  pair.server = accept_one(listening, 5s);
  EXPECT_TRUE(pair.server.valid());
  return pair;
}

// ---- system state ----------------------------------------------------------------------------------

std::string checked(const std::vector<std::string>& argv) {
  auto out = run_tool_checked(argv);
  EXPECT_TRUE(out.ok()) << out.error();
  return out ? *out : std::string("<" + out.error() + ">");
}

std::string ruleset(const std::string& netns = "") { return checked(in_namespace(netns, {"nft", "list", "ruleset"})); }
std::string qdiscs(const std::string& netns = "") {
  return netns.empty() ? checked({"tc", "qdisc", "show"}) : checked({"tc", "-n", netns, "qdisc", "show"});
}
std::string host_links() { return checked({"ip", "-o", "link", "show"}); }

std::string pid_text() { return std::to_string(::getpid()); }

// Our fault tables and lab namespaces carry our pid; leftovers of this process are what we look for.
std::vector<std::string> leftover_tables() {
  std::vector<std::string> ours;
  auto tables = list_inet_tables("");
  EXPECT_TRUE(tables.ok()) << tables.error();
  if (!tables) return ours;
  for (const auto& t : *tables) {
    if (t.starts_with("chaosplus_" + pid_text() + "_") || t.starts_with("kfaults_bystander_" + pid_text())) {
      ours.push_back(t);
    }
  }
  return ours;
}

std::vector<std::string> leftover_namespaces() {
  std::vector<std::string> ours;
  for (const auto& ns : list_namespaces()) {
    if (ns.find("-" + pid_text() + "-") != std::string::npos) ours.push_back(ns);
  }
  return ours;
}

// Holds an injected fault and reverts it when the test ends early.
class Injected {
 public:
  explicit Injected(std::unique_ptr<Fault> fault) : fault_(std::move(fault)) {}
  ~Injected() {
    if (fault_ && active_) (void)fault_->revert(halt_);
  }
  Injected(const Injected&) = delete;
  Injected& operator=(const Injected&) = delete;

  Fault& operator*() { return *fault_; }
  Fault* operator->() { return fault_.get(); }
  Status inject() {
    active_ = true;  // a failed inject may have half-happened: revert anyway
    return fault_->inject(halt_);
  }
  Status revert() {
    Status s = fault_->revert(halt_);
    if (s) active_ = false;
    return s;
  }
  // The fault is left on, as by a crashed runner; a recover must take it off.
  void abandon() { active_ = false; }

 private:
  std::unique_ptr<Fault> fault_;
  HaltSwitch halt_;
  bool active_ = false;
};

struct Subject {
  testing::TempDir dir;
  std::unique_ptr<TargetHandle> handle;
  explicit Subject(spec::Target target) : handle(std::make_unique<TargetHandle>(target, dir.file("target.log"))) {}
};

spec::Target endpoint_target(const std::string& host, int port) {
  spec::Target t;
  t.name = "service";
  t.endpoint = spec::Endpoint{host, port};
  return t;
}

spec::Fault fault_of(const std::string& type, std::map<std::string, std::string> params = {}) {
  spec::Fault f;
  f.type = type;
  f.target = "service";
  f.params = std::move(params);
  return f;
}

std::unique_ptr<Injected> build(const spec::Fault& fault, TargetHandle& target) {
  auto made = make_fault(fault, target);
  EXPECT_TRUE(made.ok()) << made.error();
  if (!made) return nullptr;
  return std::make_unique<Injected>(std::move(made).value());
}

// Writes the fault to a ledger as the runner does, for a run whose process is gone, then undoes it
// with `chaosplus recover` in a fresh process.
void recover_in_fresh_process(Fault& fault) {
  testing::TempDir state;
  auto ledger = runner::Ledger::open(runner::ledger_path(state.path()));
  ASSERT_TRUE(ledger.ok()) << ledger.error();
  testing::Child gone({"true"});
  ASSERT_TRUE(gone.wait(10s).has_value());
  runner::RunRecord run;
  run.run_id = "kernel-" + pid_text();
  run.pid = gone.pid();
  run.pid_start_time = 1;  // not the start time of whatever may reuse the pid
  run.experiment = "kernel faults";
  ASSERT_TRUE((*ledger)->begin_run(run).ok());
  auto entry = (*ledger)->record(run.run_id, fault.kind(), fault.record());
  ASSERT_TRUE(entry.ok()) << entry.error();
  ASSERT_TRUE((*ledger)->set_state(*entry, runner::EntryState::active).ok());
  ledger->reset();  // closed, as after a crash

  testing::Child recover({testing::bin("chaosplus"), "recover", "--state-dir", state.path()});
  auto code = recover.wait(60s);
  ASSERT_TRUE(code.has_value()) << "recover did not finish";
  EXPECT_EQ(*code, 0) << recover.output();
  EXPECT_NE(recover.output().find("reverted " + fault.kind()), std::string::npos) << recover.output();
}

// ---- fixture -----------------------------------------------------------------------------------------

class KernelFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::needs_root("nftables, tc, network namespaces"); !why.empty()) GTEST_SKIP() << why;
    const std::string missing = testing::missing_for_kernel_faults();
    if (!missing.empty()) {
      FAIL() << "kernel fault tests need root and the nft, tc and ip tools (Debian packages nftables, iproute2; "
                "scripts/setup.sh installs them); missing:"
             << missing;
    }
    lock_ = std::make_unique<testing::KernelTurn>();
    ASSERT_TRUE(lock_->held()) << "another kernel fault test held the lock for 5 minutes";
    // A table that is not ours, so "the rest of the rule set is untouched" is tested on something.
    bystander_ = "kfaults_bystander_" + pid_text();
    auto added = run_tool_checked({"nft", "-f", "/dev/stdin"},
                                  "table inet " + bystander_ +
                                      " {\n  chain input {\n    type filter hook input priority 0; policy accept;\n"
                                      "    tcp dport 9 accept\n  }\n}\n");
    ASSERT_TRUE(added.ok()) << added.error();
    host_links_before_ = host_links();
    host_qdiscs_before_ = qdiscs();
  }

  void TearDown() override {
    lab_.reset();  // removes its namespaces, even when the test failed
    if (!bystander_.empty()) (void)run_tool({"nft", "delete", "table", "inet", bystander_});
    if (!lock_) return;
    EXPECT_EQ(leftover_tables(), std::vector<std::string>{}) << "nft tables left behind";
    EXPECT_EQ(leftover_namespaces(), std::vector<std::string>{}) << "network namespaces left behind";
    EXPECT_EQ(host_links(), host_links_before_) << "host interfaces changed";
    EXPECT_EQ(qdiscs(), host_qdiscs_before_) << "host qdiscs changed";
  }

  VethLab& lab() {
    if (!lab_) {
      auto made = VethLab::create("kt");
      EXPECT_TRUE(made.ok()) << made.error();
      if (made) lab_ = std::move(made).value();
    }
    return *lab_;
  }

  std::unique_ptr<testing::KernelTurn> lock_;
  std::string bystander_;
  std::string host_links_before_;
  std::string host_qdiscs_before_;
  std::unique_ptr<VethLab> lab_;
};

// ---- blackhole_port ---------------------------------------------------------------------------------

TEST_F(KernelFaults, BlackholePortMakesConnectionsTimeOutAndRevertRestoresTheRuleset) {
  Fd server = listener("", "127.0.0.1");
  const int port = local_port(server);
  Subject s(endpoint_target("127.0.0.1", port));
  const std::string before = ruleset();
  auto fault = build(fault_of("blackhole_port"), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  EXPECT_NE(ruleset(), before);
  EXPECT_EQ(connect_to("", "127.0.0.1", port, 400ms).outcome, Connect::timed_out);
  ASSERT_TRUE(fault->revert().ok());
  EXPECT_EQ(ruleset(), before);
  EXPECT_EQ(connect_to("", "127.0.0.1", port, 5s).outcome, Connect::connected);
}

TEST_F(KernelFaults, BlackholePortStallsAnEstablishedConnectionAndItsBytesArriveAfterRevert) {
  Fd server = listener("", "127.0.0.1");
  Subject s(endpoint_target("127.0.0.1", local_port(server)));
  Pair pair = connected_pair("", server, "127.0.0.1");
  auto fault = build(fault_of("blackhole_port"), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  ASSERT_TRUE(send_all(pair.client, "ping"));
  EXPECT_EQ(receive(pair.server, 4, 400ms), "");
  ASSERT_TRUE(fault->revert().ok());
  EXPECT_EQ(receive(pair.server, 4, 15s), "ping") << "TCP retransmits what was dropped";
}

// ---- reject --------------------------------------------------------------------------------------

TEST_F(KernelFaults, RejectRefusesNewConnectionsWithAReset) {
  Fd server = listener("", "127.0.0.1");
  const int port = local_port(server);
  Subject s(endpoint_target("127.0.0.1", port));
  const std::string before = ruleset();
  auto fault = build(fault_of("reject"), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  EXPECT_EQ(connect_to("", "127.0.0.1", port, 5s).outcome, Connect::refused);
  ASSERT_TRUE(fault->revert().ok());
  EXPECT_EQ(ruleset(), before);
  EXPECT_EQ(connect_to("", "127.0.0.1", port, 5s).outcome, Connect::connected);
}

TEST_F(KernelFaults, RejectResetsAnEstablishedConnection) {
  Fd server = listener("", "127.0.0.1");
  Subject s(endpoint_target("127.0.0.1", local_port(server)));
  Pair pair = connected_pair("", server, "127.0.0.1");
  auto fault = build(fault_of("reject"), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  ASSERT_TRUE(send_all(pair.client, "ping"));
  EXPECT_EQ(receive_error(pair.client, 5s), ECONNRESET);
  ASSERT_TRUE(fault->revert().ok());
}

TEST_F(KernelFaults, RejectOfUdpAnswersWithPortUnreachable) {
  Fd receiver = make_socket("", SOCK_DGRAM);
  sockaddr_in a = ipv4("127.0.0.1", 0);
  ASSERT_EQ(::bind(receiver.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const int port = local_port(receiver);
  Subject s(endpoint_target("127.0.0.1", port));
  auto fault = build(fault_of("reject", {{"protocol", "udp"}}), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  // A connected UDP socket learns of the ICMP unreachable as ECONNREFUSED.
  Fd sender = make_socket("", SOCK_DGRAM);
  sockaddr_in to = ipv4("127.0.0.1", port);
  ASSERT_EQ(::connect(sender.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  ASSERT_EQ(::send(sender.get(), "x", 1, 0), 1);
  EXPECT_EQ(receive_error(sender, 5s), ECONNREFUSED);
  ASSERT_TRUE(fault->revert().ok());
  ASSERT_EQ(::send(sender.get(), "y", 1, 0), 1);
  EXPECT_EQ(receive(receiver, 1, 5s), "y");
}

TEST_F(KernelFaults, ALocalhostTargetIsCutOnBothLoopbackAddresses) {
  Fd v4 = listener("", "127.0.0.1");
  const int port = local_port(v4);
  // The same port on ::1 (free there too, or the test cannot tell the families apart).
  auto made6 = socket_in_namespace("", AF_INET6, SOCK_STREAM);
  ASSERT_TRUE(made6.ok()) << made6.error();
  Fd v6(*made6);
  set_timeouts(v6.get(), 5s);
  sockaddr_in6 any6{};
  any6.sin6_family = AF_INET6;
  any6.sin6_port = htons(static_cast<std::uint16_t>(port));
  any6.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::bind(v6.get(), reinterpret_cast<sockaddr*>(&any6), sizeof any6), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(v6.get(), 8), 0);
  Subject s(endpoint_target("localhost", port));
  auto fault = build(fault_of("reject"), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  EXPECT_EQ(connect_to("", "127.0.0.1", port, 5s).outcome, Connect::refused);
  auto made = socket_in_namespace("", AF_INET6, SOCK_STREAM);
  ASSERT_TRUE(made.ok());
  Fd client6(*made);
  set_timeouts(client6.get(), 5s);  // SO_SNDTIMEO bounds connect too
  errno = 0;
  EXPECT_NE(::connect(client6.get(), reinterpret_cast<sockaddr*>(&any6), sizeof any6), 0);
  EXPECT_EQ(errno, ECONNREFUSED);
  ASSERT_TRUE(fault->revert().ok());
  auto again = socket_in_namespace("", AF_INET6, SOCK_STREAM);
  ASSERT_TRUE(again.ok());
  Fd client6b(*again);
  set_timeouts(client6b.get(), 5s);
  EXPECT_EQ(::connect(client6b.get(), reinterpret_cast<sockaddr*>(&any6), sizeof any6), 0) << std::strerror(errno);
}

// ---- partition -----------------------------------------------------------------------------------

TEST_F(KernelFaults, PartitionOfALoopbackPortCutsBothDirectionsOfAnEstablishedConnection) {
  Fd server = listener("", "127.0.0.1");
  const int port = local_port(server);
  Subject s(endpoint_target("127.0.0.1", port));
  Pair pair = connected_pair("", server, "127.0.0.1");
  const std::string before = ruleset();
  auto fault = build(fault_of("partition"), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  ASSERT_TRUE(send_all(pair.client, "up"));
  ASSERT_TRUE(send_all(pair.server, "down"));
  EXPECT_EQ(receive(pair.server, 2, 400ms), "") << "client to server";
  EXPECT_EQ(receive(pair.client, 4, 400ms), "") << "server to client";
  EXPECT_EQ(connect_to("", "127.0.0.1", port, 400ms).outcome, Connect::timed_out);
  ASSERT_TRUE(fault->revert().ok());
  EXPECT_EQ(ruleset(), before);
  EXPECT_EQ(receive(pair.server, 2, 15s), "up");
  EXPECT_EQ(receive(pair.client, 4, 15s), "down");
}

TEST_F(KernelFaults, PartitionBetweenTwoNamespacesCutsBothWaysAndLeavesTheHostRulesetAlone) {
  VethLab& net = lab();
  ASSERT_TRUE(lab_);
  Fd in_b = listener(net.b().netns, net.b().address);
  Fd in_a = listener(net.a().netns, net.a().address);
  // Both ways work before.
  ASSERT_EQ(connect_to(net.a().netns, net.b().address, local_port(in_b), 5s).outcome, Connect::connected);
  ASSERT_EQ(connect_to(net.b().netns, net.a().address, local_port(in_a), 5s).outcome, Connect::connected);

  spec::Target bare;
  bare.name = "service";
  Subject s(bare);
  const std::string host_before = ruleset();
  const std::string b_before = ruleset(net.b().netns);
  auto fault = build(fault_of("partition", {{"namespace", net.b().netns},
                                            {"address", net.b().address},
                                            {"peer", net.a().address},
                                            {"port", "any"},
                                            {"protocol", "all"}}),
                     *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  EXPECT_EQ(ruleset(), host_before) << "the fault lives in the namespace only";
  EXPECT_EQ(connect_to(net.a().netns, net.b().address, local_port(in_b), 400ms).outcome, Connect::timed_out)
      << "a to b";
  EXPECT_EQ(connect_to(net.b().netns, net.a().address, local_port(in_a), 400ms).outcome, Connect::timed_out)
      << "b to a";
  ASSERT_TRUE(fault->revert().ok());
  EXPECT_EQ(ruleset(net.b().netns), b_before);
  EXPECT_EQ(connect_to(net.a().netns, net.b().address, local_port(in_b), 5s).outcome, Connect::connected);
  EXPECT_EQ(connect_to(net.b().netns, net.a().address, local_port(in_a), 5s).outcome, Connect::connected);
}

// ---- packet_loss ---------------------------------------------------------------------------------

TEST_F(KernelFaults, PacketLossOfAllPacketsLetsNoConnectionThrough) {
  Fd server = listener("", "127.0.0.1");
  const int port = local_port(server);
  Subject s(endpoint_target("127.0.0.1", port));
  auto fault = build(fault_of("packet_loss", {{"share", "100%"}}), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  EXPECT_EQ(connect_to("", "127.0.0.1", port, 400ms).outcome, Connect::timed_out);
  ASSERT_TRUE(fault->revert().ok());
  EXPECT_EQ(connect_to("", "127.0.0.1", port, 5s).outcome, Connect::connected);
}

TEST_F(KernelFaults, PacketLossOfNoPacketsLetsEveryExchangeThrough) {
  Fd server = listener("", "127.0.0.1");
  Subject s(endpoint_target("127.0.0.1", local_port(server)));
  auto fault = build(fault_of("packet_loss", {{"share", "0%"}}), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  Pair pair = connected_pair("", server, "127.0.0.1");
  int delivered = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string msg = "m" + std::to_string(i % 10);
    if (send_all(pair.client, msg) && receive(pair.server, 2, 300ms) == msg && send_all(pair.server, msg) &&
        receive(pair.client, 2, 300ms) == msg) {
      ++delivered;
    }
  }
  EXPECT_EQ(delivered, 50) << "each round trip is well within TCP's first retransmission";
  ASSERT_TRUE(fault->revert().ok());
}

TEST_F(KernelFaults, PacketLossDropsAboutItsShareOfDatagrams) {
  Fd receiver = make_socket("", SOCK_DGRAM);
  const int big = 16 * 1024 * 1024;
  ::setsockopt(receiver.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);  // nothing lost to a full buffer
  sockaddr_in a = ipv4("127.0.0.1", 0);
  ASSERT_EQ(::bind(receiver.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const int port = local_port(receiver);
  Subject s(endpoint_target("127.0.0.1", port));
  auto fault = build(fault_of("packet_loss", {{"share", "0.5"}, {"protocol", "udp"}}), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());

  Fd sender = make_socket("", SOCK_DGRAM);
  sockaddr_in to = ipv4("127.0.0.1", port);
  constexpr int kSent = 2000;
  for (int i = 0; i < kSent; ++i) {
    ASSERT_EQ(::sendto(sender.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 1);
  }
  int received = 0;
  char byte = 0;
  pollfd p{receiver.get(), POLLIN, 0};
  while (received <= kSent && ::poll(&p, 1, 300) == 1) {
    if (::recv(receiver.get(), &byte, 1, 0) == 1) ++received;
  }
  ASSERT_TRUE(fault->revert().ok());
  // Binomial(2000, 0.5): standard deviation 22; the bound is 9 of them.
  EXPECT_GE(received, 800);
  EXPECT_LE(received, 1200);
}

// ---- revert paths ----------------------------------------------------------------------------------

TEST_F(KernelFaults, ASecondRevertAndAnUndoAfterRevertChangeNothing) {
  Fd server = listener("", "127.0.0.1");
  Subject s(endpoint_target("127.0.0.1", local_port(server)));
  const std::string before = ruleset();
  auto fault = build(fault_of("partition"), *s.handle);
  ASSERT_TRUE(fault);
  const std::string record = (*fault)->record();
  ASSERT_TRUE(fault->inject().ok());
  ASSERT_TRUE(fault->revert().ok());
  EXPECT_TRUE(fault->revert().ok());
  EXPECT_TRUE(undo((*fault)->kind(), record).ok());
  EXPECT_EQ(ruleset(), before);
}

TEST_F(KernelFaults, AFreshRecoverProcessRemovesAnAbandonedNftFaultFromItsLedgerRecord) {
  Fd server = listener("", "127.0.0.1");
  const int port = local_port(server);
  Subject s(endpoint_target("127.0.0.1", port));
  const std::string before = ruleset();
  auto fault = build(fault_of("reject"), *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  fault->abandon();
  ASSERT_EQ(connect_to("", "127.0.0.1", port, 5s).outcome, Connect::refused);
  recover_in_fresh_process(**fault);
  EXPECT_EQ(ruleset(), before);
  EXPECT_EQ(connect_to("", "127.0.0.1", port, 5s).outcome, Connect::connected);
}

TEST_F(KernelFaults, UndoOfAFaultWhoseNamespaceIsGoneSucceeds) {
  VethLab& net = lab();
  ASSERT_TRUE(lab_);
  spec::Target bare;
  bare.name = "service";
  Subject s(bare);
  auto fault =
      build(fault_of("blackhole_port", {{"namespace", net.b().netns}, {"address", net.b().address}, {"port", "80"}}),
            *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  ASSERT_TRUE(lab_->remove().ok());
  EXPECT_TRUE(fault->revert().ok());
}

TEST_F(KernelFaults, AFaultInANamespaceThatDoesNotExistFailsToInjectAndLeavesNothing) {
  spec::Target bare;
  bare.name = "service";
  Subject s(bare);
  const std::string before = ruleset();
  auto fault = build(
      fault_of("partition",
               {{"namespace", "chaosplus-missing-" + pid_text() + "-x"}, {"address", "10.251.0.2"}, {"port", "80"}}),
      *s.handle);
  ASSERT_TRUE(fault);
  auto s2 = fault->inject();
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.error().find("does not exist"), std::string::npos) << s2.error();
  EXPECT_TRUE(fault->revert().ok());
  EXPECT_EQ(ruleset(), before);
}

// ---- bandwidth_limit -----------------------------------------------------------------------------

// Sends `bytes` from `from` to `to` and returns how long until all arrived (or nothing on failure).
std::optional<Clock::duration> transfer(const Fd& from, const Fd& to, std::size_t bytes) {
  const std::string chunk(64 * 1024, 'z');
  std::atomic<bool> sent_ok{true};
  const auto start = Clock::now();
  std::thread writer([&] {
    std::size_t left = bytes;
    while (left > 0) {
      const std::size_t n = std::min(left, chunk.size());
      if (!send_all(from, std::string_view(chunk).substr(0, n))) {
        sent_ok = false;
        return;
      }
      left -= n;
    }
  });
  const std::string got = receive(to, bytes, 60s);
  const auto took = Clock::now() - start;
  writer.join();
  if (!sent_ok || got.size() != bytes) return std::nullopt;
  return took;
}

TEST_F(KernelFaults, BandwidthLimitSlowsATransferAndRevertRestoresTheQdiscs) {
  VethLab& net = lab();
  ASSERT_TRUE(lab_);
  // A configured qdisc that is not ours, beside the one we shape, must come through untouched.
  ASSERT_TRUE(run_tool_checked({"tc", "-n", net.b().netns, "qdisc", "add", "dev", "lo", "root", "handle", "5:", "pfifo",
                                "limit", "500"})
                  .ok());
  Fd in_b = listener(net.b().netns, net.b().address);
  Pair pair = connected_pair(net.a().netns, in_b, net.b().address);
  spec::Target bare;
  bare.name = "service";
  Subject s(bare);
  const std::string b_before = qdiscs(net.b().netns);
  auto fault = build(fault_of("bandwidth_limit",
                              {{"namespace", net.b().netns}, {"interface", net.b().interface}, {"rate", "1000000"}}),
                     *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  EXPECT_NE(qdiscs(net.b().netns).find("qdisc tbf"), std::string::npos);
  // 3 MB at 1 MB/s from b to a: about 3 s; the bound is loose, well under that.
  auto took = transfer(pair.server, pair.client, 3'000'000);
  ASSERT_TRUE(took.has_value());
  EXPECT_GE(*took, 2s) << std::chrono::duration<double>(*took).count() << " s";
  ASSERT_TRUE(fault->revert().ok());
  EXPECT_EQ(qdiscs(net.b().netns), b_before);
  EXPECT_TRUE(fault->revert().ok()) << "a second revert changes nothing";
  EXPECT_EQ(qdiscs(net.b().netns), b_before);
}

TEST_F(KernelFaults, AFreshRecoverProcessRemovesAnAbandonedBandwidthLimit) {
  VethLab& net = lab();
  ASSERT_TRUE(lab_);
  spec::Target bare;
  bare.name = "service";
  Subject s(bare);
  const std::string b_before = qdiscs(net.b().netns);
  auto fault = build(
      fault_of("bandwidth_limit", {{"namespace", net.b().netns}, {"interface", net.b().interface}, {"rate", "64KB/s"}}),
      *s.handle);
  ASSERT_TRUE(fault);
  ASSERT_TRUE(fault->inject().ok());
  fault->abandon();
  ASSERT_NE(qdiscs(net.b().netns), b_before);
  recover_in_fresh_process(**fault);
  EXPECT_EQ(qdiscs(net.b().netns), b_before);
}

TEST_F(KernelFaults, BandwidthLimitRefusesAnInterfaceWithAConfiguredQdiscAndLeavesItAsItWas) {
  VethLab& net = lab();
  ASSERT_TRUE(lab_);
  ASSERT_TRUE(run_tool_checked({"tc", "-n", net.b().netns, "qdisc", "add", "dev", net.b().interface, "root", "handle",
                                "5:", "pfifo", "limit", "500"})
                  .ok());
  const std::string b_before = qdiscs(net.b().netns);
  spec::Target bare;
  bare.name = "service";
  Subject s(bare);
  auto fault = build(fault_of("bandwidth_limit",
                              {{"namespace", net.b().netns}, {"interface", net.b().interface}, {"rate", "1000000"}}),
                     *s.handle);
  ASSERT_TRUE(fault);
  auto injected = fault->inject();
  ASSERT_FALSE(injected.ok());
  EXPECT_NE(injected.error().find("already has a configured root qdisc"), std::string::npos) << injected.error();
  auto reverted = fault->revert();
  EXPECT_TRUE(reverted.ok()) << "nothing of ours to remove, and the qdiscs read as before: " << reverted.error();
  EXPECT_EQ(qdiscs(net.b().netns), b_before);
}

TEST_F(KernelFaults, BandwidthLimitOnAHostInterfaceIsRefusedBeforeAnyCommandRuns) {
  Subject s(endpoint_target("127.0.0.1", 80));
  auto made = make_fault(fault_of("bandwidth_limit", {{"interface", "lo"}, {"rate", "1000"}}), *s.handle);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("never shaped"), std::string::npos) << made.error();
}

// ---- the lab itself ----------------------------------------------------------------------------------

TEST_F(KernelFaults, TheVethLabConnectsItsTwoNamespacesAndRemovingItLeavesNothing) {
  VethLab& net = lab();
  ASSERT_TRUE(lab_);
  EXPECT_TRUE(namespace_exists(net.a().netns));
  EXPECT_TRUE(namespace_exists(net.b().netns));
  Fd in_b = listener(net.b().netns, net.b().address);
  Pair pair = connected_pair(net.a().netns, in_b, net.b().address);
  ASSERT_TRUE(send_all(pair.client, "hello"));
  EXPECT_EQ(receive(pair.server, 5, 5s), "hello");
  ASSERT_TRUE(lab_->remove().ok());
  EXPECT_FALSE(namespace_exists(net.a().netns));
  EXPECT_FALSE(namespace_exists(net.b().netns));
  EXPECT_TRUE(lab_->remove().ok()) << "idempotent";
}

}  // namespace
}  // namespace chaosplus::faults
