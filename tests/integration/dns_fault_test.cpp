// The dns fault end to end. The resolver alone (`chaosplus resolver`): its answers over UDP and TCP
// follow its rules file as it changes, and malformed queries do not stop it. Through `chaosplus
// run`: a started target that resolves a name in a loop gets NXDOMAIN, another loopback address and
// SERVFAIL while the faults are on and its `resolve:` address after each revert, while the host's
// /etc/resolv.conf is untouched; the demo shop, told its token service by name, fails closed (503)
// while that name is NXDOMAIN. Killed with kill -9 while a fault is on, `chaosplus recover` stops the
// resolver and takes the rule out.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "dns/rules.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "support/journal.h"
#include "support/support.h"
#include "targets/process.h"

namespace chaosplus {
namespace {

using testing::journal_events;

using namespace std::chrono_literals;
using testing::bin;
using testing::Child;

std::vector<std::uint8_t> query(const std::string& name, std::uint16_t type, std::uint16_t id) {
  std::vector<std::uint8_t> m{
      static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  std::size_t start = 0;
  while (start <= name.size()) {
    auto dot = std::min(name.find('.', start), name.size());
    m.push_back(static_cast<std::uint8_t>(dot - start));
    m.insert(m.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  m.insert(m.end(), {0, static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0, 1});
  return m;
}

struct Reply {
  bool answered = false;
  int rcode = -1;
  std::string address;  // the last 4 bytes as IPv4 when there is an answer record
};

Reply parse_reply(const std::vector<std::uint8_t>& r) {
  Reply out;
  if (r.size() < 12) return out;
  out.answered = true;
  out.rcode = r[3] & 0xF;
  if ((r[6] << 8 | r[7]) > 0 && r.size() >= 4) {
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, r.data() + r.size() - 4, text, sizeof text);
    out.address = text;
  }
  return out;
}

sockaddr_in to(const std::string& address, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
  return a;
}

Reply ask_udp(const std::string& server, int port, const std::vector<std::uint8_t>& message,
              std::chrono::milliseconds wait = 2000ms) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  timeval tv{static_cast<time_t>(wait.count() / 1000), static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const sockaddr_in a = to(server, port);
  ::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  std::vector<std::uint8_t> buf(4096);
  const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
  ::close(fd);
  buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return parse_reply(buf);
}

Reply ask_tcp(const std::string& server, int port, const std::vector<std::uint8_t>& message) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const sockaddr_in a = to(server, port);
  Reply out;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
    std::vector<std::uint8_t> framed{static_cast<std::uint8_t>(message.size() >> 8),
                                     static_cast<std::uint8_t>(message.size())};
    framed.insert(framed.end(), message.begin(), message.end());
    ::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL);
    std::vector<std::uint8_t> buf(4096);
    std::size_t got = 0;
    for (ssize_t n; got < buf.size() && (n = ::recv(fd, buf.data() + got, buf.size() - got, 0)) > 0;) {
      got += static_cast<std::size_t>(n);
      if (got >= 2 && got >= 2u + (buf[0] << 8 | buf[1])) break;
    }
    if (got > 2) out = parse_reply(std::vector<std::uint8_t>(buf.begin() + 2, buf.begin() + static_cast<long>(got)));
  }
  ::close(fd);
  return out;
}

TEST(DnsResolver, AnswersFollowTheRulesFileOverUdpAndTcp) {
  testing::TempDir dir;
  const std::string rules = dir.file("rules.json");
  dns::RuleFile file;
  file.resolve["tokens.shop.test"] = "127.0.0.1";
  ASSERT_TRUE(dns::write_rules(rules, file).ok());
  const int port = testing::free_port();
  const std::string at = "127.53.0.250";
  Child resolver({bin("chaosplus"), "resolver", "--rules", rules, "--listen", at, "--port", std::to_string(port)});
  ASSERT_TRUE(testing::wait_until([&] { return resolver.output().find("listening") != std::string::npos; }))
      << resolver.output();

  Reply r = ask_udp(at, port, query("Tokens.Shop.Test", 1, 1));
  EXPECT_EQ(r.rcode, 0);
  EXPECT_EQ(r.address, "127.0.0.1");
  EXPECT_EQ(ask_tcp(at, port, query("tokens.shop.test", 1, 2)).address, "127.0.0.1");
  EXPECT_EQ(ask_udp(at, port, query("elsewhere.test", 1, 3)).rcode, 5) << "a name in no table is refused";
  r = ask_udp(at, port, query("tokens.shop.test", 28, 4));
  EXPECT_EQ(r.rcode, 0);
  EXPECT_EQ(r.address, "") << "no AAAA for an IPv4 name";

  // Garbage does not stop it.
  (void)ask_udp(at, port, {0xde, 0xad, 0xbe, 0xef, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12}, 200ms);
  (void)ask_udp(at, port, {1}, 200ms);

  const auto with_rule = [&](dns::Rule rule) {
    ASSERT_TRUE(dns::edit_rules(rules, [&](dns::RuleFile& f) { f.rules = {rule}; }).ok());
  };
  with_rule({"t", {"*.shop.test"}, dns::Answer::nxdomain, 0, "", 1.0});
  EXPECT_EQ(ask_udp(at, port, query("tokens.shop.test", 1, 5)).rcode, 3);
  EXPECT_EQ(ask_tcp(at, port, query("tokens.shop.test", 1, 6)).rcode, 3);
  with_rule({"t", {"tokens.shop.test"}, dns::Answer::servfail, 0, "", 1.0});
  EXPECT_EQ(ask_udp(at, port, query("tokens.shop.test", 1, 7)).rcode, 2);
  with_rule({"t", {"tokens.shop.test"}, dns::Answer::address, 0, "127.0.0.2", 1.0});
  EXPECT_EQ(ask_udp(at, port, query("tokens.shop.test", 1, 8)).address, "127.0.0.2");
  with_rule({"t", {"tokens.shop.test"}, dns::Answer::timeout, 0, "", 1.0});
  EXPECT_FALSE(ask_udp(at, port, query("tokens.shop.test", 1, 9), 500ms).answered);
  with_rule({"t", {"tokens.shop.test"}, dns::Answer::delay, 300, "", 1.0});
  EXPECT_EQ(ask_udp(at, port, query("tokens.shop.test", 1, 10)).address, "127.0.0.1") << "late, but answered";
  ASSERT_TRUE(dns::edit_rules(rules, [](dns::RuleFile& f) { f.rules.clear(); }).ok());
  EXPECT_EQ(ask_udp(at, port, query("tokens.shop.test", 1, 11)).address, "127.0.0.1");
  EXPECT_TRUE(resolver.running());
  resolver.signal(SIGTERM);
  EXPECT_EQ(resolver.wait(10s), 0) << resolver.output();
}

// A target that looks up tokens.shop.test every 50ms and writes what it got.
std::string looping_experiment(const std::string& log, const std::string& phases) {
  return "name: dns-loop\n"
         "targets:\n"
         "  app:\n"
         "    process:\n"
         "      command: [sh, -c, 'while true; do a=$(getent ahostsv4 tokens.shop.test | head -n 1 | cut -d\" \" -f "
         "1); "
         "[ -n \"$a\" ] || a=none; echo \"$a\" >> " +
         log +
         "; sleep 0.05; done']\n"
         "      resolve: { tokens.shop.test: 127.0.0.1 }\n"
         "phases:\n" +
         phases;
}

struct DnsRun {
  testing::TempDir dir;
  std::string state = dir.file("state");
  std::string journal = dir.file("journal.jsonl");
  std::string log = dir.file("lookups.log");
  std::string file = dir.file("dns.yaml");

  std::unique_ptr<Child> start(const std::string& text) {
    testing::write_file(file, text);
    return std::make_unique<Child>(
        std::vector<std::string>{bin("chaosplus"), "run", file, "--plain", "--state-dir", state, "--journal", journal});
  }
};

TEST(DnsFault, TheTargetSeesEachAnswerWhileOnAndItsOwnAddressAfter) {
  if (auto why = testing::needs_root("binding port 53 and mounting resolv.conf"); !why.empty()) GTEST_SKIP() << why;
  const std::string host_conf = testing::read_file("/etc/resolv.conf");
  DnsRun r;
  auto run = r.start(looping_experiment(r.log,
                                        "  - name: before\n    duration: 1s\n"
                                        "  - name: nx\n    duration: 2s\n    faults:\n"
                                        "      - dns: { target: app, names: tokens.shop.test, answer: nxdomain }\n"
                                        "  - name: gap1\n    duration: 1s\n"
                                        "  - name: wrong\n    duration: 2s\n    faults:\n"
                                        "      - dns: { target: app, names: '*.shop.test', answer: address, address: "
                                        "127.0.0.2 }\n"
                                        "  - name: gap2\n    duration: 1s\n"
                                        "  - name: fail\n    duration: 2s\n    faults:\n"
                                        "      - dns: { target: app, names: tokens.shop.test, answer: servfail }\n"
                                        "  - name: after\n    duration: 1s\n"));
  // While it runs: the target has its own mount namespace whose resolv.conf names the run's resolver.
  ASSERT_TRUE(testing::wait_until([&] { return !journal_events(r.journal, "target.started").empty(); }, 30s))
      << run->output();
  const int pid = journal_events(r.journal, "target.started")[0].value("pid", 0);
  const auto placed = journal_events(r.journal, "resolver.placed");
  ASSERT_EQ(placed.size(), 1u);
  const std::string address = placed[0].value("address", "");
  EXPECT_TRUE(address.starts_with("127.53.0.")) << address;
  const std::string seen = testing::read_file("/proc/" + std::to_string(pid) + "/root/etc/resolv.conf");
  EXPECT_NE(seen.find("nameserver " + address), std::string::npos) << seen;
  EXPECT_EQ(testing::read_file("/etc/resolv.conf"), host_conf) << "the host's resolv.conf is untouched";

  const auto code = run->wait(120s);
  ASSERT_TRUE(code.has_value()) << run->output();
  EXPECT_EQ(testing::read_file("/etc/resolv.conf"), host_conf);

  // The lookups in order: collapse runs of equal answers.
  std::vector<std::string> sequence;
  for (const auto& line : testing::read_lines(r.log)) {
    if (sequence.empty() || sequence.back() != line) sequence.push_back(line);
  }
  std::string joined;
  for (const auto& s : sequence) joined += s + " ";
  // NXDOMAIN and SERVFAIL both make getent print nothing ("none"); between them the wrong address.
  const std::vector<std::string> expected{"127.0.0.1", "none", "127.0.0.1", "127.0.0.2",
                                          "127.0.0.1", "none", "127.0.0.1"};
  EXPECT_EQ(sequence, expected) << joined << "\n" << run->output();
  const auto reverted = journal_events(r.journal, "fault.reverted");
  ASSERT_EQ(reverted.size(), 3u);
  for (const auto& e : reverted) EXPECT_TRUE(e.value("ok", false)) << e.dump();
  EXPECT_FALSE(
      std::filesystem::exists(r.state + "/dns/" + journal_events(r.journal, "run.started")[0].value("run_id", "")))
      << "the resolver's folder is gone";
  EXPECT_TRUE(testing::pid_gone(pid));
}

std::optional<targets::ProcessId> resolver_process(const std::string& state) {
  auto ledger = runner::Ledger::open(runner::ledger_path(state));
  if (!ledger.ok()) return std::nullopt;
  auto entries = (*ledger)->entries("");
  if (!entries.ok()) return std::nullopt;
  for (const auto& e : *entries) {
    if (e.kind != "process.started") continue;
    const auto j = nlohmann::json::parse(e.record, nullptr, false);
    if (j.value("what", "") == "resolver" && j.contains("pid")) {
      return targets::ProcessId{j.at("pid").get<int>(), j.value("start_time", 0ULL)};
    }
  }
  return std::nullopt;
}

TEST(DnsFault, AfterKillNineRecoverStopsTheResolverAndTakesTheRuleOut) {
  if (auto why = testing::needs_root("binding port 53 and mounting resolv.conf"); !why.empty()) GTEST_SKIP() << why;
  DnsRun r;
  auto run = r.start(looping_experiment(r.log,
                                        "  - name: nx\n    duration: 60s\n    faults:\n"
                                        "      - dns: { target: app, names: tokens.shop.test, answer: nxdomain }\n"));
  ASSERT_TRUE(testing::wait_until([&] { return !journal_events(r.journal, "fault.injected").empty(); }, 60s))
      << run->output();
  ASSERT_TRUE(testing::wait_until([&] { return testing::read_file(r.log).find("none") != std::string::npos; }, 10s));
  const auto resolver = resolver_process(r.state);
  ASSERT_TRUE(resolver.has_value());
  const std::string run_id = journal_events(r.journal, "run.started")[0].value("run_id", "");
  const std::string rules = r.state + "/dns/" + run_id + "/rules.json";
  ASSERT_EQ(dns::read_rules(rules)->rules.size(), 1u);
  const int target = journal_events(r.journal, "target.started")[0].value("pid", 0);

  run->signal(SIGKILL);
  ASSERT_EQ(run->wait(30s), 128 + SIGKILL);
  EXPECT_TRUE(targets::is_alive(*resolver)) << "the resolver outlives the runner until recover";

  Child recover({bin("chaosplus"), "recover", "--state-dir", r.state});
  ASSERT_EQ(recover.wait(60s), 0) << recover.output();
  EXPECT_NE(recover.output().find("reverted dns.rule"), std::string::npos) << recover.output();
  EXPECT_TRUE(testing::wait_until([&] { return !targets::is_alive(*resolver); }, 10s)) << "no resolver left";
  EXPECT_TRUE(testing::wait_until([&] { return testing::pid_gone(target); }, 10s));
  auto left = dns::read_rules(rules);
  ASSERT_TRUE(left.ok()) << left.error();
  EXPECT_TRUE(left->rules.empty()) << "no rule left";
  auto ledger = runner::Ledger::open(runner::ledger_path(r.state));
  ASSERT_TRUE(ledger.ok());
  auto open = (*ledger)->open_entries();
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty());
  // What is left is the crashed run's resolver folder, rules taken out, and `leftovers` names it.
  Child leftovers({bin("chaosplus"), "leftovers", "--state-dir", r.state});
  leftovers.wait(60s);
  EXPECT_NE(leftovers.output().find("resolver folder"), std::string::npos) << leftovers.output();
  EXPECT_NE(leftovers.output().find("0 dns fault rule(s)"), std::string::npos) << leftovers.output();
  // No resolver of this run (its command line names this run's state folder); other tests running
  // beside this one may have their own.
  std::istringstream lines(leftovers.output());
  for (std::string line; std::getline(lines, line);) {
    EXPECT_FALSE(line.starts_with("  resolver: ") && line.find(r.state) != std::string::npos)
        << "no resolver process of this run: " << line;
  }
}

// Killed at each step of the resolver's life (as it is placed, once the target runs, with the rule
// in, right after its revert) and at a random moment: after one `recover`, no resolver runs, no rule
// is left, and nothing is open in the ledger.
TEST(DnsFault, KilledAtAnyStepRecoverLeavesNoResolverAndNoRule) {
  if (auto why = testing::needs_root("binding port 53 and mounting resolv.conf"); !why.empty()) GTEST_SKIP() << why;
  std::mt19937 rng(std::random_device{}());
  const int random_ms = static_cast<int>(rng() % 1500);
  std::cout << "[ figures ] random kill point: " << random_ms << "ms after the start\n";
  for (const std::string point : {"resolver.placed", "target.started", "fault.injected", "fault.reverted", "random"}) {
    SCOPED_TRACE(point);
    DnsRun r;
    auto run = r.start(looping_experiment(r.log,
                                          "  - name: nx\n    duration: 1s\n    faults:\n"
                                          "      - dns: { target: app, names: tokens.shop.test, answer: nxdomain }\n"
                                          "  - name: rest\n    duration: 30s\n"));
    if (point == "random") {
      testing::wait_until([] { return false; }, std::chrono::milliseconds(random_ms));  // the sleep is the point
    } else {
      ASSERT_TRUE(testing::wait_until([&] { return !journal_events(r.journal, point).empty(); }, 60s)) << run->output();
    }
    run->signal(SIGKILL);
    ASSERT_EQ(run->wait(30s), 128 + SIGKILL);
    const auto resolver = resolver_process(r.state);
    Child recover({bin("chaosplus"), "recover", "--state-dir", r.state});
    ASSERT_EQ(recover.wait(60s), 0) << recover.output();
    if (resolver) {
      EXPECT_TRUE(testing::wait_until([&] { return !targets::is_alive(*resolver); }, 10s)) << "no resolver left";
    }
    std::error_code ec;
    for (const auto& folder : std::filesystem::directory_iterator(r.state + "/dns", ec)) {
      auto left = dns::read_rules((folder.path() / "rules.json").string());
      if (left.ok()) {
        EXPECT_TRUE(left->rules.empty()) << "no rule left in " << folder.path();
      }
    }
    if (auto ledger = runner::Ledger::open(runner::ledger_path(r.state)); ledger.ok()) {
      auto open = (*ledger)->open_entries();
      ASSERT_TRUE(open.ok());
      EXPECT_TRUE(open->empty());
    }
  }
}

// The demo shop is told its token service by name; while the name is NXDOMAIN, checkout fails
// closed with 503, and works again once the fault is reverted.
TEST(DnsFault, TheShopFailsClosedWhileItsTokenServiceNameIsNxdomain) {
  if (auto why = testing::needs_root("binding port 53 and mounting resolv.conf"); !why.empty()) GTEST_SKIP() << why;
  const int tokens = testing::free_port();
  const int shop = testing::free_port();
  const std::string t = std::to_string(tokens), s = std::to_string(shop);
  DnsRun r;
  auto run = r.start(
      "name: dns-shop\n"
      "targets:\n"
      "  tokens:\n"
      "    process:\n"
      "      command: [demo-token-service, --port, \"" +
      t +
      "\"]\n"
      "      ready: { http: \"http://127.0.0.1:" +
      t +
      "/health\", timeout: 10s }\n"
      "  shop:\n"
      "    process:\n"
      "      command: [demo-shop-api, --port, \"" +
      s + "\", --tokens, \"tokens.shop.test:" + t +
      "\", --tokens-timeout, 500ms]\n"
      "      resolve: { tokens.shop.test: 127.0.0.1 }\n"
      "      ready: { http: \"http://127.0.0.1:" +
      s +
      "/health\", timeout: 10s }\n"
      "steady_state:\n"
      "  probes:\n"
      "    - name: checkout\n"
      "      http:\n"
      "        method: POST\n"
      "        url: http://127.0.0.1:" +
      s +
      "/checkout\n"
      "        headers: { Authorization: \"Bearer demo-alice\", Content-Type: application/json }\n"
      "        body: '{\"sku\":\"a1\"}'\n"
      "        timeout: 2s\n"
      "      expect: { status: [201] }\n"
      "      every: 200ms\n"
      "phases:\n"
      "  - name: no-name\n"
      "    duration: 2s\n"
      "    faults:\n"
      "      - dns: { target: shop, names: tokens.shop.test, answer: nxdomain }\n");
  const auto code = run->wait(120s);
  ASSERT_TRUE(code.has_value()) << run->output();
  int during_503 = 0, during = 0;
  for (const auto& p : journal_events(r.journal, "probe.result")) {
    if (p.value("stage", "") != "during") continue;
    ++during;
    if (p.value("status", 0) == 503) ++during_503;
  }
  EXPECT_GT(during_503, 0) << "checkout failed closed while the name did not resolve\n" << run->output();
  const auto after = journal_events(r.journal, "steady_state.result");
  ASSERT_EQ(after.size(), 2u) << run->output();
  EXPECT_TRUE(after[0].value("held", false)) << "before: the shop resolved its token service";
  EXPECT_TRUE(after[1].value("held", false)) << "after the revert it resolves it again\n" << after[1].dump();
  std::cout << "[ figures ] checkout during the NXDOMAIN phase: " << during_503 << " of " << during
            << " answered 503\n";
}

}  // namespace
}  // namespace chaosplus
