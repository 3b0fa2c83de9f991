// `chaosplus replay FINDINGS.json`: a real local HTTP server, a findings file written by the real
// writer, and the chaosplus binary as a child process.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "fuzz/finding_output.h"
#include "net/http_server.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;

// /boom fails with 500; /items/1 fails only once a POST /items created it (a setup request);
// /price answers a body that breaks the document's schema; everything else is 404.
class Shop {
 public:
  Shop()
      : server_({}, [this](const net::Request& request) {
          const std::string path = request.path();
          if (path == "/boom") return net::Response::text(500, "ZeroDivisionError at shop.cpp:88");
          if (request.method == "POST" && path == "/items") {
            created_ = true;
            return net::Response::json(201, R"({"id": 1})");
          }
          if (path == "/items/1" && created_) return net::Response::text(500, "use of an item being created");
          if (path == "/price") return net::Response::json(200, R"({"price": "twelve"})");
          if (path == "/slow") {
            // The behaviour under test: an answer slower than the replay's --timeout.
            std::this_thread::sleep_for(1500ms);
            return net::Response::text(200, "slow");
          }
          return net::Response::text(404, "not found");
        }) {
    EXPECT_TRUE(server_.start().ok());
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

 private:
  std::atomic<bool> created_{false};
  net::HttpServer server_;
};

std::string get(const std::string& path, const std::string& host) {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
}

fuzz::Finding finding(const std::string& operation, const std::string& signature, const std::string& raw,
                      const std::string& base_url) {
  fuzz::Finding f;
  f.engine = "fuzz";
  f.oracle = "server_error";
  f.operation = operation;
  f.signature = signature;
  f.severity = fuzz::Severity::high;
  f.title = operation + " answers 500";
  f.trigger = {"status_5xx", ""};
  f.raw_request = raw;
  f.base_url = base_url;
  f.count = 1;
  return f;
}

const char* kDocument = R"({
  "openapi": "3.0.3",
  "info": {"title": "shop", "version": "1"},
  "paths": {"/price": {"get": {"operationId": "getPrice", "responses": {"200": {"description": "the price",
    "content": {"application/json": {"schema": {"type": "object", "properties": {"price": {"type": "number"}}}}}}}}}}
})";

class Replay : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string host = shop_.base_url().substr(7);
    boom_ = finding("boom", "500", get("/boom", host), shop_.base_url());
    boom_.active_faults = {"latency 300ms on token"};
    boom_.without_faults = false;
    fixed_ = finding("fixed", "500", get("/fixed", host), shop_.base_url());
    item_ = finding("getItem", "500 after create", get("/items/1", host), shop_.base_url());
    item_.setup_requests = {"POST /items HTTP/1.1\r\nHost: " + host +
                            "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"};
    price_ = finding("getPrice", "schema", get("/price", host), shop_.base_url());
    price_.oracle = "schema_mismatch";
    price_.trigger = {"schema_mismatch", ""};
    testing::write_file(dir_.file("openapi.json"), kDocument);
  }

  std::string write(std::vector<fuzz::Finding> findings, const std::string& openapi = "openapi.json") {
    fuzz::FindingsFile file;
    file.base_url = shop_.base_url();
    file.openapi = openapi;
    file.findings = std::move(findings);
    const std::string path = dir_.file("findings.json");
    EXPECT_TRUE(fuzz::write_findings_file(path, file).ok());
    return path;
  }

  // Exit code and output of `chaosplus replay ARGS...`.
  std::pair<int, std::string> replay(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::bin("chaosplus"), "replay"});
    Child child(args);
    const auto code = child.wait(60s);
    EXPECT_TRUE(code.has_value()) << "replay did not finish";
    return {code.value_or(-1), child.output()};
  }

  Shop shop_;
  testing::TempDir dir_;
  fuzz::Finding boom_, fixed_, item_, price_;
};

TEST_F(Replay, SaysWhichFindingsReproduceAndExitsOneWhenSomeDoNot) {
  const std::string path = write({boom_, fixed_, item_, price_});
  const auto [code, output] = replay({path});
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find(boom_.id() + " high server_error boom: reproduces (got 500 Internal Server Error"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find(fixed_.id() + " high server_error fixed: does not reproduce (got 404 Not Found"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find(item_.id() + " high server_error getItem: reproduces"), std::string::npos)
      << "its setup request ran first: " << output;
  EXPECT_NE(output.find(price_.id() + " high schema_mismatch getPrice: reproduces"), std::string::npos)
      << "judged against the document the file names: " << output;
  EXPECT_NE(output.find("note: found while these faults were active, which are not active now: latency 300ms on "
                        "token (it did not happen without them)"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("3 of 4 finding(s) reproduce"), std::string::npos) << output;
}

TEST_F(Replay, ExitsZeroWhenEverySelectedFindingReproduces) {
  const std::string path = write({boom_, fixed_, price_});
  const auto [code, output] = replay({"--id", boom_.id(), "--id", price_.id(), path});
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output.find(fixed_.id()), std::string::npos) << "not selected: " << output;
  EXPECT_NE(output.find("2 of 2 finding(s) reproduce"), std::string::npos) << output;
}

TEST_F(Replay, BaseUrlSendsToAnotherTarget) {
  Shop other;
  fuzz::Finding elsewhere = boom_;
  elsewhere.base_url = "http://127.0.0.1:1";  // nothing listens there
  const std::string path = write({elsewhere});
  auto [code, output] = replay({path});
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("does not reproduce (got refused"), std::string::npos) << output;
  std::tie(code, output) = replay({path, "--base-url", other.base_url()});
  EXPECT_EQ(code, 0) << output;
}

TEST_F(Replay, InvalidInputExitsThreeAndSaysWhy) {
  const std::string path = write({boom_});
  auto [code, output] = replay({path, "--id", "F0000000000"});
  EXPECT_EQ(code, 3);
  EXPECT_NE(output.find("replay: --id F0000000000: no such finding in " + path), std::string::npos) << output;

  std::tie(code, output) = replay({path, "--base-url", "http://192.0.2.1:80"});
  EXPECT_EQ(code, 3);
  EXPECT_NE(output.find("not on the allow-list"), std::string::npos) << output;

  std::tie(code, output) = replay({dir_.file("missing.json")});
  EXPECT_EQ(code, 3);
  EXPECT_NE(output.find(dir_.file("missing.json") + ": cannot read"), std::string::npos) << output;

  testing::write_file(dir_.file("bad.json"), R"({"chaosplus_findings": 1, "findings": [{"engine": "fuzz"}]})");
  std::tie(code, output) = replay({dir_.file("bad.json")});
  EXPECT_EQ(code, 3);
  EXPECT_NE(output.find("bad.json: findings[0].oracle: missing"), std::string::npos) << output;

  const std::string no_document = write({price_}, "");
  std::tie(code, output) = replay({no_document});
  EXPECT_EQ(code, 3);
  EXPECT_NE(output.find("schema_mismatch but the file names no OpenAPI document"), std::string::npos) << output;
}

TEST_F(Replay, ATimeBasedFindingWaitsPastItsBoundWhateverTheTimeout) {
  fuzz::Finding slow = finding("slow", "sleep", get("/slow", shop_.base_url().substr(7)), shop_.base_url());
  slow.engine = "security";
  slow.oracle = "command_injection";
  slow.trigger = {"latency_over", "1200"};
  const auto [code, output] = replay({write({slow}), "--timeout", "100ms"});
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("reproduces (got 200 OK"), std::string::npos) << output;
}

TEST_F(Replay, SaysWhenTheDocumentLacksTheFindingsOperation) {
  fuzz::Finding renamed = price_;
  renamed.operation = "getPriceV2";
  const auto [code, output] = replay({write({renamed})});
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("openapi.json has no operation 'getPriceV2': the reply cannot be checked against it"),
            std::string::npos)
      << output;
}

TEST_F(Replay, AFindingWithAnUnknownTriggerDoesNotReproduceAndTheOthersStillRun) {
  fuzz::Finding odd = fixed_;
  odd.trigger = {"status_is_bad", ""};
  const auto [code, output] = replay({write({odd, boom_})});
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find(odd.id() + " high server_error: cannot be replayed (trigger rule 'status_is_bad': expected"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find(boom_.id() + " high server_error boom: reproduces"), std::string::npos) << output;
  EXPECT_NE(output.find("1 of 2 finding(s) reproduce"), std::string::npos) << output;
}

TEST(ReplayHelp, TellsTheExitCodes) {
  Child child({testing::bin("chaosplus"), "replay", "--help"});
  EXPECT_EQ(child.wait(10s), 0);
  EXPECT_NE(child.output().find("Exit codes: 0 every selected finding reproduces, 1 some do not, 3 invalid input"),
            std::string::npos)
      << child.output();
}

}  // namespace
}  // namespace chaosplus
