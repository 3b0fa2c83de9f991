#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "dns/answer.h"
#include "dns/message.h"
#include "dns/rules.h"

namespace chaosplus::dns {
namespace {

std::vector<std::uint8_t> query_bytes(const std::string& name, std::uint16_t type, std::uint16_t id = 0x1234,
                                      bool edns = false) {
  std::vector<std::uint8_t> m{
      static_cast<std::uint8_t>(id >> 8),      static_cast<std::uint8_t>(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0,
      edns ? std::uint8_t{1} : std::uint8_t{0}};
  std::size_t start = 0;
  while (start <= name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m.push_back(static_cast<std::uint8_t>(dot - start));
    m.insert(m.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  m.push_back(0);
  m.insert(m.end(), {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type & 0xFF), 0, 1});
  if (edns) m.insert(m.end(), {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0});  // OPT, 4096 bytes, no options
  return m;
}

int rcode_of(const std::vector<std::uint8_t>& reply) { return reply.at(3) & 0xF; }
int answers_of(const std::vector<std::uint8_t>& reply) { return reply.at(6) << 8 | reply.at(7); }

TEST(DnsMessage, ReadsAQueryWithEdnsAndKeepsTheLetterCaseOfTheName) {
  const auto parsed = parse_query(query_bytes("Tokens.Shop.TEST", kTypeA, 7, true));
  ASSERT_TRUE(parsed.query.has_value());
  EXPECT_EQ(parsed.query->name, "tokens.shop.test");
  EXPECT_EQ(parsed.query->id, 7);
  EXPECT_EQ(parsed.query->type, kTypeA);
  const auto reply = build_response(*parsed.query, Rcode::noerror, {{127, 0, 0, 2}}, kTtl);
  EXPECT_EQ(reply[0], 0);
  EXPECT_EQ(reply[1], 7);
  EXPECT_EQ(answers_of(reply), 1);
  // The question is echoed as sent (0x20 letter case kept), then the record ends with the address.
  const std::string sent = "Tokens";
  EXPECT_NE(std::search(reply.begin(), reply.end(), sent.begin(), sent.end()), reply.end());
  EXPECT_EQ(std::vector<std::uint8_t>(reply.end() - 4, reply.end()), (std::vector<std::uint8_t>{127, 0, 0, 2}));
}

TEST(DnsMessage, RefusesMalformedMessagesWithFormerrOrSilence) {
  EXPECT_FALSE(parse_query(std::vector<std::uint8_t>{1, 2, 3}).formerr_id.has_value());  // short header: silence
  auto response = query_bytes("a.test", kTypeA);
  response[2] |= 0x80;  // a response: never answered
  EXPECT_FALSE(parse_query(response).query.has_value());
  EXPECT_FALSE(parse_query(response).formerr_id.has_value());
  auto truncated = query_bytes("a.test", kTypeA);
  truncated.resize(truncated.size() - 3);
  EXPECT_EQ(parse_query(truncated).formerr_id, 0x1234);
  // A compression pointer to itself (a loop) and one forwards are refused.
  std::vector<std::uint8_t> loop{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
  EXPECT_FALSE(parse_query(loop).query.has_value());
  std::vector<std::uint8_t> ahead{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 14, 0, 1, 0, 1};
  EXPECT_FALSE(parse_query(ahead).query.has_value());
}

// Random and mutated messages: the parser must never read outside the message (run under
// sanitizers in CI) and never accept a name longer than 255 bytes on the wire.
TEST(DnsMessage, FuzzedMessagesNeverBreakTheParser) {
  std::mt19937 rng(1305);
  const std::vector<std::vector<std::uint8_t>> seeds{query_bytes("tokens.shop.test", kTypeA),
                                                     query_bytes("x.y.z", kTypeAAAA, 9, true)};
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::vector<std::uint8_t> m;
    if (i % 3 == 0) {
      m.resize(rng() % 80);
      for (auto& b : m) b = static_cast<std::uint8_t>(rng());
      if (m.size() > 2) m[2] &= 0x7F;
    } else {
      m = seeds[i % 2];
      for (int k = static_cast<int>(rng() % 4); k >= 0; --k) m[rng() % m.size()] = static_cast<std::uint8_t>(rng());
      if (rng() % 4 == 0) m.resize(rng() % (m.size() + 1));
    }
    const auto parsed = parse_query(m);
    if (parsed.query) {
      ++accepted;
      EXPECT_LE(parsed.query->wire_name.size(), 255u);
      const auto reply = build_response(*parsed.query, Rcode::noerror, {{127, 0, 0, 1}}, 0);
      EXPECT_GE(reply.size(), 12u);
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(DnsRules, NamePatternsMatchExactlyOrBelowTheirSuffix) {
  EXPECT_TRUE(name_matches("tokens.shop.test", "tokens.shop.test"));
  EXPECT_FALSE(name_matches("tokens.shop.test", "x.tokens.shop.test"));
  EXPECT_TRUE(name_matches("*.shop.test", "tokens.shop.test"));
  EXPECT_TRUE(name_matches("*.shop.test", "a.b.shop.test"));
  EXPECT_FALSE(name_matches("*.shop.test", "shop.test"));
  EXPECT_FALSE(name_matches("*.shop.test", "xshop.test"));
  auto names = parse_name_list(" Tokens.Shop.test , *.db.test");
  ASSERT_TRUE(names.ok()) << names.error();
  EXPECT_EQ(*names, (std::vector<std::string>{"tokens.shop.test", "*.db.test"}));
  EXPECT_FALSE(parse_name_list("a..b").ok());
  EXPECT_FALSE(parse_name_list("a.test.").ok());
  EXPECT_FALSE(parse_name_list("a.*.test").ok());
  EXPECT_FALSE(parse_name_list("").ok());
}

TEST(DnsAnswer, FaultedNamesGetTheRulesAnswerOthersTheTableOrRefused) {
  RuleFile rules;
  rules.resolve["tokens.shop.test"] = "127.0.0.1";
  rules.resolve["v6.shop.test"] = "::1";
  const auto ask = [&](const std::string& name, std::uint16_t type, double draw = 0.0) {
    return decide(*parse_query(query_bytes(name, type)).query, rules, draw);
  };
  EXPECT_EQ(answers_of(*ask("tokens.shop.test", kTypeA).reply), 1);
  EXPECT_EQ(rcode_of(*ask("tokens.shop.test", kTypeAAAA).reply), 0);  // NODATA
  EXPECT_EQ(answers_of(*ask("tokens.shop.test", kTypeAAAA).reply), 0);
  EXPECT_EQ(answers_of(*ask("v6.shop.test", kTypeAAAA).reply), 1);
  EXPECT_EQ(rcode_of(*ask("example.com", kTypeA).reply), static_cast<int>(Rcode::refused));

  rules.rules.push_back({"f1", {"*.shop.test"}, Answer::nxdomain, 0, "", 0.5});
  EXPECT_EQ(rcode_of(*ask("tokens.shop.test", kTypeA, 0.2).reply), static_cast<int>(Rcode::nxdomain));
  EXPECT_EQ(rcode_of(*ask("tokens.shop.test", kTypeA, 0.7).reply), 0);  // outside the share
  rules.rules[0] = {"f1", {"tokens.shop.test"}, Answer::address, 0, "127.0.0.9", 1.0};
  const auto wrong = *ask("tokens.shop.test", kTypeA).reply;
  EXPECT_EQ(std::vector<std::uint8_t>(wrong.end() - 4, wrong.end()), (std::vector<std::uint8_t>{127, 0, 0, 9}));
  rules.rules[0] = {"f1", {"tokens.shop.test"}, Answer::timeout, 0, "", 1.0};
  EXPECT_FALSE(ask("tokens.shop.test", kTypeA).reply.has_value());
  rules.rules[0] = {"f1", {"tokens.shop.test"}, Answer::delay, 1500, "", 1.0};
  const auto slow = ask("tokens.shop.test", kTypeA);
  EXPECT_EQ(slow.delay.count(), 1500);
  EXPECT_EQ(answers_of(*slow.reply), 1);
  rules.rules[0] = {"f1", {"tokens.shop.test"}, Answer::servfail, 0, "", 1.0};
  EXPECT_EQ(rcode_of(*ask("tokens.shop.test", kTypeA).reply), static_cast<int>(Rcode::servfail));
}

TEST(DnsRules, EditsGoThroughTheFileAndSurviveARoundTrip) {
  const auto dir = std::filesystem::temp_directory_path() / ("dns-rules-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "rules.json").string();
  EXPECT_FALSE(edit_rules(path, [](RuleFile&) {}).ok());  // missing, not created
  ASSERT_TRUE(edit_rules(
                  path, [](RuleFile& f) { f.resolve["a.test"] = "127.0.0.1"; }, true)
                  .ok());
  ASSERT_TRUE(edit_rules(path, [](RuleFile& f) {
                f.rules.push_back({"r1", {"a.test"}, Answer::delay, 250, "", 0.25});
              }).ok());
  auto back = read_rules(path);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->resolve.at("a.test"), "127.0.0.1");
  ASSERT_EQ(back->rules.size(), 1u);
  EXPECT_EQ(back->rules[0].answer, Answer::delay);
  EXPECT_EQ(back->rules[0].delay_ms, 250);
  EXPECT_DOUBLE_EQ(back->rules[0].share, 0.25);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chaosplus::dns
