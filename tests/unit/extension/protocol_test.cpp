// The describe reply and the typing of parameters as written (extension/protocol.h).
#include "extension/protocol.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace chaosplus::extension {
namespace {

using nlohmann::json;

json valid_reply() {
  return json::parse(R"({"name": "x", "version": "1", "protocol": 1,
    "faults": [{"name": "f", "params": [
      {"name": "path", "kind": "text", "required": true},
      {"name": "count", "kind": "integer", "default": 1},
      {"name": "ratio", "kind": "number"},
      {"name": "wait", "kind": "duration"},
      {"name": "loud", "kind": "bool", "default": false}]}],
    "probes": [{"name": "p"}]})");
}

TEST(ExtensionProtocol, ReadsAValidDescribeReply) {
  auto d = parse_description(valid_reply());
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->name, "x");
  ASSERT_NE(d->find_fault("f"), nullptr);
  EXPECT_EQ(d->find_fault("f")->params.size(), 5u);
  EXPECT_EQ(d->find_fault("f")->find("wait")->kind, ParamKind::duration);
  EXPECT_NE(d->find_probe("p"), nullptr);
  EXPECT_EQ(d->find_probe("f"), nullptr);
}

TEST(ExtensionProtocol, RefusesAnotherProtocolVersion) {
  json reply = valid_reply();
  reply["protocol"] = 2;
  auto d = parse_description(reply);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().find("protocol 2"), std::string::npos) << d.error();
  reply.erase("protocol");
  EXPECT_NE(parse_description(reply).error().find("missing \"protocol\""), std::string::npos);
}

TEST(ExtensionProtocol, RefusesAnUnknownParameterKindAndADefaultOfTheWrongKind) {
  json reply = valid_reply();
  reply["faults"][0]["params"][1]["kind"] = "bytes";
  auto d = parse_description(reply);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().find("kind 'bytes'"), std::string::npos) << d.error();
  reply = valid_reply();
  reply["faults"][0]["params"][1]["default"] = "one";
  d = parse_description(reply);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().find("parameter 'count': its default does not fit kind integer"), std::string::npos) << d.error();
}

TEST(ExtensionProtocol, RefusesAReplyThatIsNoObjectOrHasNoName) {
  EXPECT_FALSE(parse_description(json::array()));
  json reply = valid_reply();
  reply.erase("name");
  EXPECT_NE(parse_description(reply).error().find("missing \"name\""), std::string::npos);
}

TEST(ExtensionProtocol, TypesWrittenValuesAndFillsDefaults) {
  auto d = parse_description(valid_reply());
  ASSERT_TRUE(d);
  auto typed = type_params(*d->find_fault("f"), {{"path", "/tmp/a"}, {"ratio", "0.5"}, {"wait", "1.5s"}});
  ASSERT_TRUE(typed.problems.empty()) << typed.problems.front().message;
  EXPECT_EQ(json::parse(typed.json),
            json::parse(R"({"path": "/tmp/a", "count": 1, "ratio": 0.5, "wait": 1500.0, "loud": false})"));
}

TEST(ExtensionProtocol, SaysWhichParameterIsUnknownMissingOrOfTheWrongKind) {
  auto d = parse_description(valid_reply());
  ASSERT_TRUE(d);
  auto typed = type_params(*d->find_fault("f"), {{"count", "many"}, {"colour", "red"}, {"loud", "yes"}});
  ASSERT_EQ(typed.problems.size(), 4u);
  std::map<std::string, std::string> by_param;
  for (const auto& p : typed.problems) by_param[p.param] = p.message;
  EXPECT_NE(by_param["count"].find("expected an integer, got 'many'"), std::string::npos) << by_param["count"];
  EXPECT_NE(by_param["colour"].find("has no parameter 'colour'"), std::string::npos) << by_param["colour"];
  EXPECT_NE(by_param["loud"].find("expected true or false"), std::string::npos) << by_param["loud"];
  EXPECT_NE(by_param[""].find("needs parameter 'path' (text)"), std::string::npos) << by_param[""];
}

}  // namespace
}  // namespace chaosplus::extension
