// The extension client against real executables: the example extension (extensions/corrupt_file)
// and a tiny shell extension that misbehaves on purpose (tests/data/extensions/misbehave.sh).
#include "extension/session.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/support.h"
#include "targets/process.h"

namespace chaosplus::extension {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

spec::ExtensionCommand corrupt_file() {
  spec::ExtensionCommand c;
  c.name = "corrupt";
  c.argv = {testing::bin("chaosplus-ext-corrupt-file")};
  return c;
}

spec::ExtensionCommand misbehave(const std::string& mode) {
  spec::ExtensionCommand c;
  c.name = "misbehave";
  c.argv = {testing::source_path("tests/data/extensions/misbehave.sh")};
  c.env = {{"MISBEHAVE", mode}};
  return c;
}

TEST(ExtensionSession, DescribesTheExampleExtension) {
  auto d = describe(corrupt_file());
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->name, "corrupt-file");
  ASSERT_NE(d->find_fault("corrupt"), nullptr);
  EXPECT_TRUE(d->find_fault("corrupt")->find("path")->required);
  EXPECT_NE(d->find_probe("file_intact"), nullptr);
}

TEST(ExtensionSession, InjectCheckpointsBeforeItWritesAndRevertPutsTheBytesBack) {
  testing::TempDir dir;
  const std::string path = dir.file("data.bin");
  testing::write_file(path, "0123456789");
  std::vector<json> checkpoints;
  std::vector<std::string> events;
  Handlers h;
  h.on_checkpoint = [&](const json& record) {
    // Stored before the change: the file is still as it was.
    EXPECT_EQ(testing::read_file(path), "0123456789");
    checkpoints.push_back(record);
    return ok_status();
  };
  h.on_event = [&](const std::string& name, const json&) { events.push_back(name); };
  auto reply = call(corrupt_file(), "inject",
                    {{"fault", "corrupt"}, {"params", {{"path", path}, {"offset", 2}, {"bytes", 3}}}}, 10s, h);
  ASSERT_TRUE(reply) << reply.error();
  ASSERT_EQ(checkpoints.size(), 1u);
  EXPECT_EQ((*reply)["record"], checkpoints[0]);
  EXPECT_EQ(events, std::vector<std::string>{"corrupt_file.written"});
  const std::string corrupted = testing::read_file(path);
  EXPECT_EQ(corrupted.substr(0, 2), "01");
  EXPECT_NE(corrupted.substr(2, 3), "234");
  EXPECT_EQ(corrupted.substr(5), "56789");

  json revert{{"fault", "corrupt"}, {"params", json::object()}, {"record", (*reply)["record"]}};
  auto reverted = call(corrupt_file(), "revert", revert, 10s);
  ASSERT_TRUE(reverted) << reverted.error();
  EXPECT_EQ((*reverted)["restored"], true);
  EXPECT_EQ(testing::read_file(path), "0123456789");
  // Idempotent: a second revert finds the original bytes and changes nothing.
  reverted = call(corrupt_file(), "revert", revert, 10s);
  ASSERT_TRUE(reverted) << reverted.error();
  EXPECT_EQ((*reverted)["restored"], false);
  EXPECT_EQ(testing::read_file(path), "0123456789");
}

TEST(ExtensionSession, ACheckpointTheCallerCannotStoreStopsTheInjectBeforeAnyChange) {
  testing::TempDir dir;
  const std::string path = dir.file("data.bin");
  testing::write_file(path, "abcdef");
  Handlers h;
  h.on_checkpoint = [](const json&) { return Status(Error{"ledger is full"}); };
  auto reply =
      call(corrupt_file(), "inject", {{"fault", "corrupt"}, {"params", {{"path", path}, {"bytes", 2}}}}, 10s, h);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("did not store the checkpoint"), std::string::npos) << reply.error();
  EXPECT_EQ(testing::read_file(path), "abcdef");
}

TEST(ExtensionSession, TheExampleRefusesAFileThatDoesNotExistAndAnUnknownRequest) {
  auto reply = call(corrupt_file(), "inject", {{"fault", "corrupt"}, {"params", {{"path", "/nonexistent/x"}}}}, 10s);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("refused inject: /nonexistent/x does not exist"), std::string::npos) << reply.error();
  reply = call(corrupt_file(), "dance", json::object(), 10s);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("unknown request 'dance'"), std::string::npos) << reply.error();
}

TEST(ExtensionSession, TheExampleProbeComparesTheFilesDigest) {
  testing::TempDir dir;
  const std::string path = dir.file("f");
  testing::write_file(path, "abc");
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  auto reply =
      call(corrupt_file(), "probe", {{"probe", "file_intact"}, {"params", {{"path", path}, {"sha256", abc}}}}, 10s);
  ASSERT_TRUE(reply) << reply.error();
  testing::write_file(path, "abd");
  reply = call(corrupt_file(), "probe", {{"probe", "file_intact"}, {"params", {{"path", path}, {"sha256", abc}}}}, 10s);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("not the expected one"), std::string::npos) << reply.error();
}

TEST(ExtensionSession, SeveralRequestsShareOneProcess) {
  auto session = Session::start(corrupt_file());
  ASSERT_TRUE(session) << session.error();
  for (int i = 0; i < 3; ++i) {
    auto reply = (*session)->request("describe", json::object(), 10s);
    ASSERT_TRUE(reply) << reply.error();
    EXPECT_EQ((*reply)["id"], i + 1);
  }
  EXPECT_EQ(*(*session)->finish(), 0);  // end of its stdin: it exits 0
}

TEST(ExtensionSession, ALineThatIsNotJsonEndsTheSession) {
  auto session = Session::start(misbehave("garbage"));
  ASSERT_TRUE(session) << session.error();
  const targets::ProcessId id = (*session)->id();
  auto reply = (*session)->request("describe", json::object(), 10s);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("not a JSON object while answering describe: this is not json"), std::string::npos)
      << reply.error();
  EXPECT_FALSE(targets::is_alive(id));
  EXPECT_NE((*session)->request("describe", json::object(), 10s).error().find("session is over"), std::string::npos);
}

TEST(ExtensionSession, AnExtensionThatDoesNotAnswerInTimeIsStopped) {
  auto session = Session::start(misbehave("silent"));
  ASSERT_TRUE(session) << session.error();
  const targets::ProcessId id = (*session)->id();
  auto reply = (*session)->request("inject", json::object(), 300ms);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("did not answer the inject request within 300ms; it was stopped"), std::string::npos)
      << reply.error();
  EXPECT_FALSE(targets::is_alive(id));
}

TEST(ExtensionSession, AnExtensionThatExitsBeforeAnsweringSaysItsCodeAndStderr) {
  auto reply = call(misbehave("exit"), "revert", json::object(), 10s);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("exited before answering the revert request (exit code 3)"), std::string::npos)
      << reply.error();
  EXPECT_NE(reply.error().find("misbehave: giving up"), std::string::npos) << reply.error();
}

TEST(ExtensionSession, AReplyWithAnotherIdIsAProtocolError) {
  auto reply = call(misbehave("wrong-id"), "describe", json::object(), 10s);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("answered with id 999 where 1 was asked"), std::string::npos) << reply.error();
}

TEST(ExtensionSession, EventsReachTheCallerBeforeTheReply) {
  std::vector<json> events;
  Handlers h;
  h.on_event = [&](const std::string& name, const json& fields) {
    json e = fields;
    e["name"] = name;
    events.push_back(e);
  };
  auto reply = call(misbehave("events"), "probe", json::object(), 10s, h);
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ((*reply)["value"], 42);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], json::parse(R"({"name": "step", "n": 1})"));
  EXPECT_EQ(events[1], json::parse(R"({"name": "step", "n": 2, "note": "two"})"));
}

TEST(ExtensionSession, ACheckpointIsAnsweredAndRefusedOutsideInject) {
  Handlers h;
  h.on_checkpoint = [](const json& record) {
    EXPECT_EQ(record, json::parse(R"({"saved": "before"})"));
    return ok_status();
  };
  auto reply = call(misbehave("checkpoint"), "inject", json::object(), 10s, h);
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ((*reply)["answer"], json::parse(R"({"checkpointed": true})"));
  reply = call(misbehave("checkpoint"), "revert", json::object(), 10s);  // no checkpoint handler
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ((*reply)["answer"]["checkpointed"], false);
}

TEST(ExtensionSession, TheExtensionsOwnRefusalIsQuoted) {
  auto reply = call(misbehave("refuse"), "inject", json::object(), 10s);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), "extension 'misbehave' refused inject: no, thank you");
}

TEST(ExtensionSession, AMissingExecutableIsAnErrorNamingIt) {
  spec::ExtensionCommand c;
  c.name = "ghost";
  c.argv = {"/nonexistent/chaosplus-ext-ghost"};
  auto reply = call(c, "describe", json::object(), 10s);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("extension 'ghost'"), std::string::npos) << reply.error();
}

}  // namespace
}  // namespace chaosplus::extension
