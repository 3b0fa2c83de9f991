// Reading `patroni:` targets: defaults, every key, and the errors at their line.
#include <gtest/gtest.h>

#include "spec/loader.h"
#include "support/support.h"

namespace chaosplus::spec {
namespace {

std::string errors_of(const LoadResult& result) {
  std::string out;
  for (const auto& e : result.errors) out += e.to_string() + "\n";
  return out;
}

constexpr const char* kPhases = R"(
phases:
  - name: a
    duration: 1m
    faults:
      - kill: { target: db }
)";

TEST(PatroniTarget, ReadsEveryKey) {
  const auto result = load_experiment_text(std::string(R"(name: roles
targets:
  db:
    patroni:
      apis: ["127.0.0.11:8008", "127.0.0.12:8008"]
      role: replica
      process: patroni
      etcd: ["127.0.0.21:2379"]
      restart: [lab.sh, start-node, "{member}"]
      timeout: 2s)") + kPhases,
                                           "roles.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const auto& p = result.experiment->targets.at(0).patroni;
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->apis, (std::vector<std::string>{"127.0.0.11:8008", "127.0.0.12:8008"}));
  EXPECT_EQ(p->role, "replica");
  EXPECT_EQ(p->process, "patroni");
  EXPECT_EQ(p->etcd, (std::vector<std::string>{"127.0.0.21:2379"}));
  EXPECT_EQ(p->restart, (std::vector<std::string>{"lab.sh", "start-node", "{member}"}));
  EXPECT_EQ(p->timeout, std::chrono::seconds(2));
}

TEST(PatroniTarget, DefaultsToThePrimarysPostmaster) {
  const auto result = load_experiment_text(std::string(R"(name: roles
targets:
  db: { patroni: { apis: ["127.0.0.11:8008"] } })") +
                                               kPhases,
                                           "roles.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const auto& p = result.experiment->targets.at(0).patroni;
  EXPECT_EQ(p->role, "primary");
  EXPECT_EQ(p->process, "postgres");
  EXPECT_TRUE(p->etcd.empty());
  EXPECT_EQ(p->timeout, std::chrono::seconds(5));
}

TEST(PatroniTarget, ReportsANonLoopbackApiAnUnknownRoleAndAnEmptyListAtTheirLines) {
  const auto result = load_experiment_text(std::string(R"(name: roles
targets:
  db:
    patroni:
      apis: ["10.0.0.11:8008"]
      role: leader
  other:
    patroni:
      apis: []
  db2:
    patroni: { apis: ["127.0.0.11:8008"] }
    attach: { pid: 1 })") + kPhases,
                                           "roles.yaml");
  ASSERT_FALSE(result.ok());
  const std::string errors = errors_of(result);
  EXPECT_NE(errors.find("roles.yaml:5:14: apis: host '10.0.0.11' is not on the allow-list"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("roles.yaml:6:13: role: found 'leader', expected one of primary, replica, sync_replica, any"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("roles.yaml:9:13: apis: found an empty list"), std::string::npos) << errors;
  EXPECT_NE(errors.find("roles.yaml:11:5: target 'db2' has both 'patroni' and 'attach', expected one of them"),
            std::string::npos)
      << errors;
}

TEST(PatroniTarget, DatabaseFaultsNeedAPatroniTarget) {
  const auto result = load_experiment_text(R"(name: roles
targets:
  w: { process: { command: [sleep, "1"] } }
phases:
  - name: a
    duration: 1m
    faults:
      - crash_node: { target: w }
)",
                                           "roles.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(errors_of(result).find("roles.yaml:8:31: fault 'crash_node' needs a target with a 'patroni' member"),
            std::string::npos)
      << errors_of(result);
}

}  // namespace
}  // namespace chaosplus::spec
