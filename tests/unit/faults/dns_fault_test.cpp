// The dns fault without a resolver: it adds its rule to the rules file on inject and takes exactly
// that rule out on revert and on undo from its record alone, leaving the `resolve:` table and other
// rules as they were; it refuses names glibc answers from /etc/hosts, and targets started without
// the run's resolver.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "dns/rules.h"
#include "faults/fault.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "spec/loader.h"
#include "support/support.h"

namespace chaosplus::faults {
namespace {

spec::Fault loaded(const std::string& settings) {
  const std::string text =
      "name: dns\ntargets:\n  app: { process: { command: [sleep, \"600\"] } }\n"
      "phases:\n  - name: a\n    duration: 10s\n    faults:\n      - dns: { target: app, " +
      settings + " }\n";
  auto result = spec::load_experiment_text(text, "dns.yaml");
  std::string errors;
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(result.ok()) << errors;
  return result.ok() ? result.experiment->phases[0].faults[0] : spec::Fault{};
}

spec::Target app() {
  spec::Target t;
  t.name = "app";
  t.process = spec::ProcessLaunch{};
  t.process->command = {"sleep", "600"};
  return t;
}

TEST(DnsFaultRule, InjectAddsItsRuleAndRevertOrUndoTakesExactlyItOut) {
  testing::TempDir dir;
  TargetHandle target(app(), dir.file("app.log"));
  target.resolver_rules = dir.file("rules.json");
  dns::RuleFile before;
  before.resolve["tokens.shop.test"] = "127.0.0.1";
  before.rules.push_back({"other", {"db.test"}, dns::Answer::servfail, 0, "", 1.0});
  ASSERT_TRUE(dns::write_rules(target.resolver_rules, before).ok());
  const std::string original = testing::read_file(target.resolver_rules);

  HaltSwitch halt;
  auto fault = make_fault(loaded("names: \"Tokens.shop.test, *.api.test\", answer: address, address: 127.0.0.2, "
                                 "share: 25%, delay: 100ms"),
                          target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  EXPECT_EQ((*fault)->kind(), "dns.rule");
  const std::string record = (*fault)->record();
  ASSERT_TRUE((*fault)->inject(halt).ok());
  auto on = dns::read_rules(target.resolver_rules);
  ASSERT_TRUE(on.ok()) << on.error();
  ASSERT_EQ(on->rules.size(), 2u);
  const dns::Rule& rule = on->rules[1];
  EXPECT_EQ(rule.names, (std::vector<std::string>{"tokens.shop.test", "*.api.test"}));
  EXPECT_EQ(rule.answer, dns::Answer::address);
  EXPECT_EQ(rule.address, "127.0.0.2");
  EXPECT_EQ(rule.delay_ms, 100);
  EXPECT_DOUBLE_EQ(rule.share, 0.25);
  ASSERT_TRUE((*fault)->revert(halt).ok());
  EXPECT_EQ(testing::read_file(target.resolver_rules), original) << "byte for byte as before";

  ASSERT_TRUE((*fault)->inject(halt).ok());
  ASSERT_TRUE(undo("dns.rule", record).ok()) << "from the record alone";
  EXPECT_EQ(testing::read_file(target.resolver_rules), original);
  std::filesystem::remove(target.resolver_rules);
  EXPECT_TRUE(undo("dns.rule", record).ok()) << "its run's resolver folder is gone: nothing to undo";
  EXPECT_FALSE(std::filesystem::exists(target.resolver_rules)) << "undo does not make the file again";
}

TEST(DnsFaultRule, RefusesNamesFromEtcHostsAndTargetsWithoutTheResolver) {
  testing::TempDir dir;
  TargetHandle target(app(), dir.file("app.log"));
  auto without = make_fault(loaded("names: tokens.shop.test"), target);
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.error().find("not started with the run's resolver"), std::string::npos) << without.error();

  target.resolver_rules = dir.file("rules.json");
  ASSERT_TRUE(dns::write_rules(target.resolver_rules, {}).ok());
  // "localhost" is in every /etc/hosts; glibc answers it before asking any server.
  auto hosts = make_fault(loaded("names: localhost"), target);
  ASSERT_FALSE(hosts.ok());
  EXPECT_NE(hosts.error().find("is in /etc/hosts"), std::string::npos) << hosts.error();
}

}  // namespace
}  // namespace chaosplus::faults
