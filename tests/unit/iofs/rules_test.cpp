// The rule an I/O fault hands its file system: operations by name, the files glob, and the JSON
// the fault writes and `chaosplus iofs` reads.
#include "iofs/rules.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace chaosplus::iofs {
namespace {

TEST(IofsRules, OperationsAreReadFromACommaSeparatedList) {
  auto ops = parse_ops("write, fsync ,open");
  ASSERT_TRUE(ops.ok()) << ops.error();
  Rule rule;
  rule.ops = *ops;
  EXPECT_TRUE(rule.acts_on(Op::write));
  EXPECT_TRUE(rule.acts_on(Op::fsync));
  EXPECT_TRUE(rule.acts_on(Op::open));
  EXPECT_FALSE(rule.acts_on(Op::read));
  auto bad = parse_ops("write,sync");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("found 'sync'"), std::string::npos) << bad.error();
  EXPECT_FALSE(parse_ops("").ok());
  EXPECT_FALSE(parse_ops("read,").ok());
}

TEST(IofsRules, EveryOperationNameMapsToItsOwnBit) {
  std::uint32_t all = 0;
  for (auto name : op_names()) {
    auto op = op_from_name(name);
    ASSERT_TRUE(op.has_value()) << name;
    EXPECT_EQ(all & static_cast<std::uint32_t>(*op), 0u) << name;
    all |= static_cast<std::uint32_t>(*op);
  }
}

TEST(IofsRules, ErrnoNames) {
  EXPECT_EQ(errno_from_name("EIO"), EIO);
  EXPECT_EQ(errno_from_name("ENOSPC"), ENOSPC);
  EXPECT_EQ(errno_from_name("EACCES"), EACCES);
  EXPECT_FALSE(errno_from_name("EWHATEVER").has_value());
  for (auto name : errno_names()) EXPECT_TRUE(errno_from_name(name).has_value()) << name;
}

TEST(IofsRules, TheGlobMatchesBaseNamesOrPathsUnderTheFolder) {
  Rule all;
  EXPECT_TRUE(all.covers("x/y.db"));
  EXPECT_TRUE(all.covers(""));
  Rule db;
  db.files = "*.db";
  EXPECT_TRUE(db.covers("app.db"));
  EXPECT_TRUE(db.covers("sub/dir/app.db")) << "a glob without '/' matches the base name";
  EXPECT_FALSE(db.covers("app.db-journal"));
  EXPECT_FALSE(db.covers("")) << "a call whose file is unknown is not one of the files";
  Rule sub;
  sub.files = "logs/*";
  EXPECT_TRUE(sub.covers("logs/a.txt"));
  EXPECT_FALSE(sub.covers("a.txt"));
}

TEST(IofsRules, JsonRoundTrip) {
  Rule rule;
  rule.error = ENOSPC;
  rule.delay = std::chrono::milliseconds(150);
  rule.ops = static_cast<std::uint32_t>(Op::write) | static_cast<std::uint32_t>(Op::fsync);
  rule.share = 0.25;
  rule.files = "*.db";
  auto back = rule_from_json(to_json(rule));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->error, ENOSPC);
  EXPECT_EQ(back->delay, rule.delay);
  EXPECT_EQ(back->ops, rule.ops);
  EXPECT_EQ(back->share, 0.25);
  EXPECT_EQ(back->files, "*.db");
  EXPECT_FALSE(rule_from_json("{}").ok());
  EXPECT_FALSE(rule_from_json(R"({"errno":5,"delay_us":0,"ops":1,"share":1.5,"files":""})").ok());
}

}  // namespace
}  // namespace chaosplus::iofs
