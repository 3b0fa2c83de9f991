// The sql probe in real runs against a PostgreSQL started for the test: held when the query answers
// what is expected (before, during and after the phases), deviated on a wrong value, and aborted by
// a guardrail on the probe's success rate when the server goes away.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <nlohmann/json.hpp>

#include "support/postgres_instance.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::PostgresInstance;
using testing::TempDir;

struct RunFiles {
  TempDir dir;
  std::string journal = dir.file("journal.jsonl");

  std::unique_ptr<Child> start(const std::string& yaml) {
    const std::string path = dir.file("experiment.yaml");
    testing::write_file(path, yaml);
    return std::make_unique<Child>(std::vector<std::string>{testing::bin("chaosplus"), "run", path, "--plain",
                                                            "--state-dir", dir.file("state"), "--journal", journal});
  }
  std::vector<nlohmann::json> events(const std::string& type) const {
    std::vector<nlohmann::json> out;
    for (const auto& line : testing::read_lines(journal)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("type", "") == type) out.push_back(j);
    }
    return out;
  }
};

class SqlProbeRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PostgresInstance::unavailable().empty()) return;
    pg_ = std::make_unique<PostgresInstance>();
    if (pg_->ok()) pg_->psql("CREATE TABLE orders (id int PRIMARY KEY, status text); "
                             "INSERT INTO orders VALUES (1, 'paid'), (2, 'paid'), (3, 'new')");
  }
  static void TearDownTestSuite() { pg_.reset(); }
  void SetUp() override {
    if (auto why = PostgresInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(pg_->ok()) << pg_->error();
  }

  static std::string experiment(const std::string& name, const std::string& conninfo, const std::string& expect) {
    return "name: " + name + R"(
steady_state:
  probes:
    - name: orders
      sql:
        dsn: ")" + conninfo + R"("
        query: "SELECT count(*), min(status) FROM orders"
        timeout: 5s
      expect: )" + expect + R"(
      every: 200ms
phases:
  - name: steady
    duration: 1s
)";
  }

  static std::unique_ptr<PostgresInstance> pg_;
};
std::unique_ptr<PostgresInstance> SqlProbeRun::pg_;

TEST_F(SqlProbeRun, HeldWhenTheQueryAnswersWhatIsExpected) {
  RunFiles run;
  auto child = run.start(experiment("sql-held", pg_->conninfo(),
                                    R"({ rows: "== 1", value: "3", output_regex: "^3\tnew$", latency: "< 5s" })"));
  auto code = child->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << child->output();
  auto results = run.events("probe.result");
  ASSERT_GE(results.size(), 3u) << child->output();  // before, during (every 200ms), after
  std::set<std::string> stages;
  for (const auto& r : results) {
    EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
    stages.insert(r["stage"].get<std::string>());
  }
  EXPECT_EQ(stages, (std::set<std::string>{"before", "during", "after"}));
}

TEST_F(SqlProbeRun, DeviatedWhenTheValueIsWrong) {
  RunFiles run;
  auto child = run.start(experiment("sql-deviated", pg_->conninfo(), R"({ value: "4" })"));
  auto code = child->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1) << child->output();
  auto results = run.events("probe.result");
  ASSERT_FALSE(results.empty());
  EXPECT_FALSE(results[0]["ok"].get<bool>());
  EXPECT_EQ(results[0]["detail"], "the first value is '3', expected '4'") << results[0].dump();
}

TEST_F(SqlProbeRun, AGuardrailOnTheProbeAbortsWhenTheServerGoesAway) {
  PostgresInstance victim;
  ASSERT_TRUE(victim.ok()) << victim.error();
  RunFiles run;
  auto child = run.start(R"(name: sql-guardrail
steady_state:
  probes:
    - name: alive
      sql: { dsn: ")" + victim.conninfo("connect_timeout=2") + R"(", query: "SELECT 1", timeout: 1s }
      expect: { value: "1" }
      every: 100ms
guardrails:
  - name: database-gone
    when: { probe: alive, success_rate: "< 50%", over: 1s, min_samples: 3 }
phases:
  - name: chaos
    duration: 60s
)");
  ASSERT_TRUE(testing::wait_until(
      [&] {
        for (const auto& r : run.events("probe.result"))
          if (r.value("stage", "") == "during") return true;
        return false;
      },
      30s))
      << child->output();
  ASSERT_TRUE(victim.stop("fast"));
  auto code = child->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2) << child->output();
  auto tripped = run.events("guardrail.tripped");
  ASSERT_EQ(tripped.size(), 1u) << child->output();
  EXPECT_EQ(tripped[0]["metric"], "probe.alive.success_rate");
  bool refused_seen = false;
  for (const auto& r : run.events("probe.result"))
    refused_seen = refused_seen || r.value("detail", "").find(std::to_string(victim.port())) != std::string::npos;
  EXPECT_TRUE(refused_seen) << "a failed probe names the host and port it could not reach";
}

}  // namespace
}  // namespace chaosplus
