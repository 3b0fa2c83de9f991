#include "proxy/workers.h"

#include <gtest/gtest.h>

namespace chaosplus::proxy {
namespace {

ToxicSpec toxic(const std::string& type, Attributes attributes, const std::string& stream = "downstream",
                double toxicity = 1.0) {
  ToxicDraft draft;
  draft.type = type;
  draft.stream = stream;
  draft.toxicity = toxicity;
  draft.attributes = std::move(attributes);
  auto spec = make_toxic(draft);
  EXPECT_TRUE(spec.ok()) << spec.error();
  return *spec;
}

class ApplyState : public ::testing::Test {
 protected:
  void SetUp() override {
    // Like the API process and its workers: both listen on the same ports.
    Engine::Options options;
    options.reuse_port = true;
    auto started = Engine::start(options);
    ASSERT_TRUE(started.ok()) << started.error();
    source_ = std::move(started).value();
    auto other = Engine::start(options);
    ASSERT_TRUE(other.ok()) << other.error();
    copy_ = std::move(other).value();
  }

  // What the API process publishes, through the wire format, applied to the copy.
  void publish() {
    auto decoded = decode_state(encode_state(source_->proxies()));
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    auto applied = apply_state(*copy_, *decoded);
    ASSERT_TRUE(applied.ok()) << applied.error();
  }

  void expect_same() {
    auto a = source_->proxies();
    auto b = copy_->proxies();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].name, b[i].name);
      EXPECT_EQ(a[i].listen, b[i].listen);
      EXPECT_EQ(a[i].upstream, b[i].upstream);
      EXPECT_EQ(a[i].enabled, b[i].enabled);
      EXPECT_EQ(a[i].toxics, b[i].toxics);
    }
  }

  std::unique_ptr<Engine> source_;
  std::unique_ptr<Engine> copy_;
};

TEST_F(ApplyState, TheWireFormatKeepsEveryField) {
  ASSERT_TRUE(source_->create_proxy({"db", "127.0.0.1:0", "127.0.0.1:5432", false}).ok());
  ASSERT_TRUE(source_->add_toxic("db", toxic("latency", {{"latency", 120}, {"jitter", 5}}, "upstream", 0.25)).ok());
  ASSERT_TRUE(source_->add_toxic("db", toxic("http_status", {{"path", "/x"}, {"status", 418}}, "upstream")).ok());
  auto state = source_->proxies();
  auto decoded = decode_state(encode_state(state));
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ASSERT_EQ(decoded->size(), 1u);
  EXPECT_EQ((*decoded)[0].name, "db");
  EXPECT_EQ((*decoded)[0].listen, state[0].listen);
  EXPECT_FALSE((*decoded)[0].enabled);
  EXPECT_EQ((*decoded)[0].toxics, state[0].toxics);
}

TEST_F(ApplyState, BadStateIsRefusedWithAReason) {
  EXPECT_FALSE(decode_state("not json").ok());
  auto bad =
      decode_state(R"([{"name":"a","listen":"127.0.0.1:1","upstream":"127.0.0.1:2","enabled":true,)"
                   R"("toxics":[{"name":"t","type":"nope","stream":"upstream","toxicity":1,"attributes":{}}]}])");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("nope"), std::string::npos) << bad.error();
}

TEST_F(ApplyState, ACopyFollowsCreatesUpdatesAndDeletes) {
  ASSERT_TRUE(source_->create_proxy({"a", "127.0.0.1:0", "127.0.0.1:1001", true}).ok());
  ASSERT_TRUE(source_->create_proxy({"b", "127.0.0.1:0", "127.0.0.1:1002", true}).ok());
  ASSERT_TRUE(source_->add_toxic("a", toxic("latency", {{"latency", 10}})).ok());
  ASSERT_TRUE(source_->add_toxic("a", toxic("bandwidth", {{"rate", 100}}, "upstream")).ok());
  publish();
  expect_same();

  // A toxic changed in place, one removed, one of another type under an old name, a proxy
  // disabled, one deleted and one added.
  ASSERT_TRUE(source_->update_toxic("a", toxic("latency", {{"latency", 30}})).ok());
  ASSERT_TRUE(source_->remove_toxic("a", "bandwidth_upstream").ok());
  ASSERT_TRUE(source_->add_toxic("a", toxic("slicer", {{"average_size", 8}})).ok());
  ASSERT_TRUE(source_->update_proxy("a", {std::nullopt, std::nullopt, false}).ok());
  ASSERT_TRUE(source_->delete_proxy("b").ok());
  ASSERT_TRUE(source_->create_proxy({"c", "127.0.0.1:0", "127.0.0.1:1003", true}).ok());
  publish();
  expect_same();

  ASSERT_TRUE(source_->reset().ok());
  publish();
  expect_same();
}

TEST_F(ApplyState, AChangeCarriesOnlyTheProxiesItNames) {
  ASSERT_TRUE(source_->create_proxy({"a", "127.0.0.1:0", "127.0.0.1:1001", true}).ok());
  ASSERT_TRUE(source_->create_proxy({"b", "127.0.0.1:0", "127.0.0.1:1002", true}).ok());
  publish();
  // Only in the copy: a change that does not name it leaves it alone.
  ASSERT_TRUE(copy_->create_proxy({"stray", "127.0.0.1:0", "127.0.0.1:1009", true}).ok());

  ASSERT_TRUE(source_->add_toxic("a", toxic("latency", {{"latency", 10}})).ok());
  ASSERT_TRUE(source_->delete_proxy("b").ok());
  ASSERT_TRUE(source_->create_proxy({"c", "127.0.0.1:0", "127.0.0.1:1003", false}).ok());
  StateChange change;
  change.only = std::vector<std::string>{"a", "b", "c"};
  for (const char* name : {"a", "c"}) change.proxies.push_back(source_->proxy(name).value());
  const std::string line = encode_change(change);
  EXPECT_EQ(line.find("1002"), std::string::npos) << line;  // only the named proxies travel
  auto decoded = decode_change(line);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ASSERT_TRUE(decoded->only.has_value());
  ASSERT_TRUE(apply_change(*copy_, *decoded).ok());
  EXPECT_TRUE(copy_->proxy("stray").ok());
  EXPECT_FALSE(copy_->proxy("b").ok());
  EXPECT_EQ(copy_->proxy("a").value().toxics, source_->proxy("a").value().toxics);
  EXPECT_FALSE(copy_->proxy("c").value().enabled);

  // The whole state (as after a failed change) puts the copy back in step.
  auto whole = decode_change(encode_change({source_->proxies(), std::nullopt}));
  ASSERT_TRUE(whole.ok()) << whole.error();
  EXPECT_FALSE(whole->only.has_value());
  ASSERT_TRUE(apply_change(*copy_, *whole).ok());
  expect_same();
}

}  // namespace
}  // namespace chaosplus::proxy
