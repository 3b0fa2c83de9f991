// Secrets of a killed run stay out of what the next run publishes and what recover and leftovers
// print: the run's fault proxy takes a fresh bearer token, kept in the ledger for recover; after a
// kill -9, `chaosplus leftovers` lists the proxy, and the next run's recovery.done event (its `log`
// is recover's output) shows the toxic's record with the token redacted.
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "runner/ledger.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;

std::vector<nlohmann::json> events_of(const std::string& journal) {
  std::vector<nlohmann::json> out;
  for (const auto& line : testing::read_lines(journal)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(j);
  }
  return out;
}

int count(const std::string& journal, const std::string& type) {
  int n = 0;
  for (const auto& e : events_of(journal)) n += e.value("type", "") == type ? 1 : 0;
  return n;
}

TEST(RecoverySecrets, TheProxyTokenOfAKilledRunIsNeitherPrintedNorPublished) {
  testing::TempDir dir;
  const int service = testing::free_port();
  const int proxy = testing::free_port();
  const std::string state = dir.file("state");
  auto experiment = [&](const std::string& duration) {
    return R"(name: secrets
targets:
  tokens:
    process:
      command: [demo-token-service, --port, ")" +
           std::to_string(service) + R"("]
      ready: { http: "http://127.0.0.1:)" +
           std::to_string(service) + R"(/health", timeout: 10s }
    proxy: { listen: "127.0.0.1:)" +
           std::to_string(proxy) + R"(", upstream: "127.0.0.1:)" + std::to_string(service) + R"(" }
phases:
  - name: slow
    duration: )" +
           duration + R"(
    faults:
      - latency: { target: tokens, latency: 20ms }
)";
  };
  testing::write_file(dir.file("long.yaml"), experiment("60s"));
  testing::write_file(dir.file("short.yaml"), experiment("200ms"));
  Child run({testing::bin("chaosplus"), "run", dir.file("long.yaml"), "--plain", "--state-dir", state, "--journal",
             dir.file("first.jsonl")});
  ASSERT_TRUE(testing::wait_until([&] { return count(dir.file("first.jsonl"), "fault.injected") >= 1; }, 30s))
      << run.output();
  run.signal(SIGKILL);
  ASSERT_TRUE(run.wait(10s).has_value());

  // The token, as the ledger keeps it for recover.
  std::string token;
  {
    auto ledger = runner::Ledger::open_for_inspection(state + "/ledger.db");
    ASSERT_TRUE(ledger.ok()) << ledger.error();
    auto entries = (*ledger)->entries("");
    ASSERT_TRUE(entries.ok()) << entries.error();
    for (const auto& e : *entries) {
      if (e.kind == "proxy.toxic") token = nlohmann::json::parse(e.record).value("token", "");
    }
  }
  ASSERT_GE(token.size(), 16u) << "the toxic's record holds the proxy's token";

  Child leftovers({testing::bin("chaosplus"), "leftovers", "--state-dir", state});
  ASSERT_EQ(leftovers.wait(60s), std::optional<int>(1)) << leftovers.output();
  EXPECT_NE(leftovers.output().find("chaosplus proxy --api"), std::string::npos) << leftovers.output();
  EXPECT_EQ(leftovers.output().find(token), std::string::npos) << leftovers.output();

  Child next({testing::bin("chaosplus"), "run", dir.file("short.yaml"), "--plain", "--state-dir", state, "--journal",
              dir.file("second.jsonl")});
  auto code = next.wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(next.output().find(token), std::string::npos) << next.output();
  nlohmann::json recovery;
  for (const auto& e : events_of(dir.file("second.jsonl"))) {
    if (e.value("type", "") == "recovery.done") recovery = e;
  }
  ASSERT_FALSE(recovery.is_null()) << next.output();
  const std::string log = recovery.dump();
  EXPECT_NE(log.find("proxy.toxic"), std::string::npos) << log;
  EXPECT_NE(log.find("<redacted>"), std::string::npos) << log;
  EXPECT_EQ(log.find(token), std::string::npos) << log;
  EXPECT_EQ(testing::read_file(dir.file("second.jsonl")).find(token), std::string::npos);
}

}  // namespace
}  // namespace chaosplus
