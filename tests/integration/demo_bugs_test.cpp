// The demo shop's seeded bugs (demo/bugs.h), against the real token service and shop processes:
// for each bug, a hand-written request gets the correct, documented answer with the bug off, and
// shows the bug (with "bug-hit: NAME" in the shop's log) with it on. With every bug off, a sweep
// over every operation never gets a 5xx, and every answer matches demo/shop-api.openapi.yaml
// (status, content type, JSON body against its schema with valijson) and carries the security
// headers the document promises.
#include <gtest/gtest.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "net/http_client.h"
#include "net/http_server.h"
#include "openapi/document.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::Child;

const std::string kAlice = "Bearer demo-alice";
const std::string kBob = "Bearer demo-bob";

// ---- The processes -------------------------------------------------------------------------

bool healthy(int port) { return testing::http_request("GET", "127.0.0.1", port, "/health", {}, 1s).status == 200; }

struct TokenService {
  int port = testing::free_port();
  Child child{{testing::bin("demo-token-service"), "--port", std::to_string(port)}};
  TokenService() {
    EXPECT_TRUE(testing::wait_until([&] { return healthy(port); })) << child.output();
  }
};

class Shop {
 public:
  // `bugs` as given to --bug ("" for none); `tokens_port` where the shop asks about tokens.
  Shop(int tokens_port, const std::string& bugs, const std::string& tokens_timeout = "1s") {
    std::vector<std::string> argv{testing::bin("demo-shop-api"),
                                  "--port",
                                  std::to_string(port),
                                  "--tokens",
                                  "127.0.0.1:" + std::to_string(tokens_port),
                                  "--tokens-timeout",
                                  tokens_timeout,
                                  "--files",
                                  files.path()};
    if (!bugs.empty()) argv.insert(argv.end(), {"--bug", bugs});
    child = std::make_unique<Child>(argv);
    EXPECT_TRUE(testing::wait_until([&] { return healthy(port); })) << child->output();
  }

  Result<net::Response> call(const std::string& method, const std::string& target,
                             const std::string& authorization = {}, const std::string& body = {},
                             std::vector<net::Header> headers = {}, Duration timeout = 10s) const {
    auto url = net::Url::parse("http://127.0.0.1:" + std::to_string(port) + "/");
    net::Request request;
    request.method = method;
    request.target = target;
    request.headers = std::move(headers);
    if (!authorization.empty()) request.headers.push_back({"Authorization", authorization});
    if (!body.empty()) {
      request.headers.push_back({"Content-Type", "application/json"});
      request.body = body;
    }
    return net::fetch(*url, std::move(request), timeout);
  }

  // The response, or a failed test when there is none.
  net::Response must(const std::string& method, const std::string& target, const std::string& authorization = {},
                     const std::string& body = {}, std::vector<net::Header> headers = {}) const {
    auto response = call(method, target, authorization, body, std::move(headers));
    EXPECT_TRUE(response.ok()) << method << " " << target << ": " << response.error() << "\n" << child->output();
    if (response.ok()) return *response;
    net::Response none;
    none.status = 0;
    return none;
  }

  bool hit(const std::string& bug) const {
    return testing::wait_until([&] { return child->output().find("bug-hit: " + bug + "\n") != std::string::npos; });
  }
  bool any_hit() const { return child->output().find("bug-hit:") != std::string::npos; }

  testing::TempDir files;
  int port = testing::free_port();
  std::unique_ptr<Child> child;
};

json body_of(const net::Response& response) { return json::parse(response.body, nullptr, false); }

// A created order's number.
std::uint64_t create_order(const Shop& shop, const std::string& authorization, const std::string& body) {
  auto created = shop.must("POST", "/users/me/orders", authorization, body);
  EXPECT_EQ(created.status, 201) << created.body;
  auto order = body_of(created);
  return order.is_object() && order["order"].is_number_unsigned() ? order["order"].get<std::uint64_t>() : 0;
}

// ---- One test per bug: off, the documented answer; on, the bug and its bug-hit line -----------

class DemoBugs : public ::testing::Test {
 protected:
  TokenService tokens;
};

TEST_F(DemoBugs, Boundary500) {
  Shop good(tokens.port, "");
  EXPECT_EQ(good.must("GET", "/products?limit=0").status, 400);
  EXPECT_EQ(good.must("GET", "/products?limit=1").status, 200);
  Shop bad(tokens.port, "boundary-500");
  EXPECT_EQ(bad.must("GET", "/products?limit=1").status, 200);
  EXPECT_FALSE(bad.any_hit());
  EXPECT_EQ(bad.must("GET", "/products?limit=0").status, 500);
  EXPECT_TRUE(bad.hit("boundary-500"));
  EXPECT_FALSE(good.any_hit()) << good.child->output();
}

TEST_F(DemoBugs, StackLeak) {
  Shop good(tokens.port, "");
  auto r = good.must("GET", "/products/abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.find(".cpp"), std::string::npos) << r.body;
  Shop bad(tokens.port, "stack-leak");
  r = bad.must("GET", "/products/abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("terminate called after throwing"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("demo/catalog.cpp:"), std::string::npos) << r.body;
  EXPECT_TRUE(bad.hit("stack-leak"));
  EXPECT_FALSE(good.any_hit()) << good.child->output();
}

TEST_F(DemoBugs, SchemaDrift) {
  Shop good(tokens.port, "");
  EXPECT_TRUE(body_of(good.must("GET", "/products/2"))["price"].is_number());
  Shop bad(tokens.port, "schema-drift");
  EXPECT_TRUE(body_of(bad.must("GET", "/products/1"))["price"].is_number());  // not on sale: as documented
  EXPECT_FALSE(bad.any_hit());
  EXPECT_EQ(body_of(bad.must("GET", "/products/2"))["price"], "8.00");
  EXPECT_TRUE(bad.hit("schema-drift"));
  EXPECT_FALSE(good.any_hit()) << good.child->output();
}

TEST_F(DemoBugs, UseAfterDelete) {
  for (const bool on : {false, true}) {
    Shop shop(tokens.port, on ? "use-after-delete" : "");
    const auto id = std::to_string(create_order(shop, kAlice, R"({"sku":"mug-7","quantity":1})"));
    EXPECT_EQ(shop.must("GET", "/users/me/orders/" + id, kAlice).status, 200);
    EXPECT_EQ(shop.must("DELETE", "/users/me/orders/" + id, kAlice).status, 204);
    EXPECT_FALSE(shop.any_hit());
    EXPECT_EQ(shop.must("GET", "/users/me/orders/" + id, kAlice).status, on ? 200 : 404);
    EXPECT_EQ(shop.must("GET", "/orders/" + id).status, on ? 200 : 404);
    EXPECT_EQ(shop.must("DELETE", "/users/me/orders/" + id, kAlice).status, 404);  // a double delete never works
    EXPECT_EQ(on ? shop.hit("use-after-delete") : shop.any_hit(), on) << shop.child->output();
  }
}

TEST_F(DemoBugs, Bola) {
  for (const bool on : {false, true}) {
    Shop shop(tokens.port, on ? "bola" : "");
    const auto id = std::to_string(create_order(shop, kAlice, R"({"sku":"mug-7","quantity":1})"));
    EXPECT_EQ(shop.must("GET", "/users/me/orders/" + id, kBob).status, on ? 200 : 404);
    EXPECT_EQ(shop.must("PUT", "/users/me/orders/" + id, kBob, R"({"sku":"lamp-3","quantity":3})").status,
              on ? 200 : 404);
    EXPECT_EQ(body_of(shop.must("GET", "/users/me/orders/" + id, kAlice))["sku"], on ? "lamp-3" : "mug-7");
    EXPECT_EQ(shop.must("DELETE", "/users/me/orders/" + id, kBob).status, on ? 204 : 404);
    EXPECT_EQ(on ? shop.hit("bola") : shop.any_hit(), on) << shop.child->output();
  }
}

TEST_F(DemoBugs, SqlInjection) {
  const std::string quote = "/products?search=%27";
  const std::string always = "/products?search=zzz%27%20OR%201%3D1%20--";
  Shop good(tokens.port, "");
  auto r = good.must("GET", quote);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["total"], 0);
  EXPECT_EQ(body_of(good.must("GET", always))["total"], 0);
  EXPECT_EQ(body_of(good.must("GET", "/products?search=desk"))["total"], 2);

  Shop bad(tokens.port, "sql-injection");
  EXPECT_EQ(body_of(bad.must("GET", "/products?search=desk"))["total"], 2);
  EXPECT_FALSE(bad.any_hit());
  r = bad.must("GET", quote);
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("SQL error: "), std::string::npos) << r.body;
  EXPECT_EQ(body_of(bad.must("GET", always))["total"], 12);  // every row
  EXPECT_EQ(body_of(bad.must("GET", "/products?search=%27%20AND%201%3D2%20--"))["total"], 0);
  EXPECT_TRUE(bad.hit("sql-injection"));
  EXPECT_FALSE(good.any_hit()) << good.child->output();
}

TEST_F(DemoBugs, PathTraversal) {
  const std::string passwd = "/files?name=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd";
  Shop good(tokens.port, "");
  EXPECT_EQ(good.must("GET", passwd).status, 400);
  auto r = good.must("GET", "/files?name=shipping.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("Orders ship"), std::string::npos);
  Shop bad(tokens.port, "path-traversal");
  EXPECT_EQ(bad.must("GET", "/files?name=shipping.txt").status, 200);
  EXPECT_FALSE(bad.any_hit());
  r = bad.must("GET", passwd);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("root:"), std::string::npos) << r.body;
  EXPECT_TRUE(bad.hit("path-traversal"));
  EXPECT_FALSE(good.any_hit()) << good.child->output();
}

TEST_F(DemoBugs, TemplateInjection) {
  Shop good(tokens.port, "");
  EXPECT_EQ(good.must("GET", "/greet?name=%7B%7B7*7%7D%7D").body, "Hello, {{7*7}}!\n");
  Shop bad(tokens.port, "template-injection");
  EXPECT_EQ(bad.must("GET", "/greet?name=Ada").body, "Hello, Ada!\n");
  EXPECT_FALSE(bad.any_hit());
  EXPECT_EQ(bad.must("GET", "/greet?name=%7B%7B7*7%7D%7D").body, "Hello, 49!\n");
  EXPECT_TRUE(bad.hit("template-injection"));
  EXPECT_FALSE(good.any_hit()) << good.child->output();
}

TEST_F(DemoBugs, ReflectedXss) {
  const std::string target = "/page?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E";
  Shop good(tokens.port, "");
  auto r = good.must("GET", target);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("<script>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("&lt;script&gt;"), std::string::npos) << r.body;
  Shop bad(tokens.port, "reflected-xss");
  EXPECT_EQ(bad.must("GET", "/page?q=lamp").status, 200);
  EXPECT_FALSE(bad.any_hit());
  r = bad.must("GET", target);
  EXPECT_NE(r.body.find("<script>alert(1)</script>"), std::string::npos) << r.body;
  EXPECT_TRUE(bad.hit("reflected-xss"));
  EXPECT_FALSE(good.any_hit()) << good.child->output();
}

TEST_F(DemoBugs, Cors) {
  const std::vector<net::Header> origin{{"Origin", "https://evil.example"}};
  Shop good(tokens.port, "");
  auto r = good.must("GET", "/users/me", kAlice, {}, origin);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.has_header("Access-Control-Allow-Origin"));
  EXPECT_EQ(good.must("OPTIONS", "/users/me", {}, {}, origin).status, 405);
  Shop bad(tokens.port, "cors");
  EXPECT_FALSE(bad.must("GET", "/health").has_header("Access-Control-Allow-Origin"));
  EXPECT_FALSE(bad.any_hit());
  r = bad.must("GET", "/users/me", kAlice, {}, origin);
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://evil.example");
  EXPECT_EQ(r.header("Access-Control-Allow-Credentials"), "true");
  EXPECT_TRUE(bad.hit("cors"));
  EXPECT_FALSE(good.any_hit()) << good.child->output();
}

TEST_F(DemoBugs, Crash) {
  Shop good(tokens.port, "");
  EXPECT_EQ(good.must("GET", "/products/-1").status, 400);
  EXPECT_TRUE(good.child->running());
  Shop bad(tokens.port, "crash");
  EXPECT_EQ(bad.must("GET", "/products/0").status, 400);
  EXPECT_FALSE(bad.call("GET", "/products/-1").ok());  // no answer: the process died
  EXPECT_EQ(bad.child->wait(10s), 128 + SIGABRT);
  EXPECT_TRUE(bad.hit("crash"));
  EXPECT_FALSE(good.any_hit()) << good.child->output();
}

TEST_F(DemoBugs, Hang) {
  const std::string target = "/page?q=" + std::string(600, 'a');
  Shop good(tokens.port, "");
  EXPECT_EQ(good.must("GET", target).status, 400);
  Shop bad(tokens.port, "hang");
  EXPECT_EQ(bad.must("GET", "/page?q=" + std::string(200, 'a')).status, 200);
  auto r = bad.call("GET", target, {}, {}, {}, 1s);
  EXPECT_FALSE(r.ok());
  if (!r.ok()) {
    EXPECT_NE(r.error().find("timed out"), std::string::npos) << r.error();
  }
  EXPECT_TRUE(bad.hit("hang"));
  EXPECT_TRUE(healthy(bad.port));  // one hung request does not stop the others
  bad.child->signal(SIGTERM);      // and it does not hold up the exit (far less than its 30 s)
  EXPECT_EQ(bad.child->wait(10s), 0);
  EXPECT_FALSE(good.any_hit()) << good.child->output();
}

long resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

TEST_F(DemoBugs, MemoryLeak) {
  for (const bool on : {false, true}) {
    Shop shop(tokens.port, on ? "memory-leak" : "");
    const long before = resident_kib(shop.child->pid());
    for (int i = 0; i < 300; ++i) ASSERT_EQ(shop.must("GET", "/products?search=s" + std::to_string(i)).status, 200);
    const long after = resident_kib(shop.child->pid());
    if (on) {
      EXPECT_GT(after - before, 60 * 1024) << before << " KiB -> " << after << " KiB";  // 300 x 256 KiB kept
      EXPECT_TRUE(shop.hit("memory-leak"));
    } else {
      EXPECT_FALSE(shop.any_hit()) << shop.child->output();
    }
  }
}

TEST_F(DemoBugs, AcceptInvalid) {
  for (const bool on : {false, true}) {
    Shop shop(tokens.port, on ? "accept-invalid" : "");
    EXPECT_EQ(shop.must("POST", "/users/me/orders", kAlice, R"({"sku":"mug-7","quantity":101})").status, 400);
    EXPECT_FALSE(shop.any_hit());
    auto r = shop.must("POST", "/users/me/orders", kAlice, R"({"sku":"mug-7","quantity":-5})");
    EXPECT_EQ(r.status, on ? 201 : 400) << r.body;
    EXPECT_EQ(shop.must("POST", "/checkout", kAlice, R"({"sku":"a1","quantity":0})").status, on ? 201 : 400);
    EXPECT_EQ(on ? shop.hit("accept-invalid") : shop.any_hit(), on) << shop.child->output();
  }
}

// A token service that answers every request with `status` and `body`.
class FakeTokens {
 public:
  FakeTokens(int status, std::string body)
      : server_(net::HttpServer::Options{}, [status, body](const net::Request&) {
          net::Response r;
          r.status = status;
          r.body = body;
          return r;
        }) {
    EXPECT_TRUE(server_.start().ok());
  }
  int port() const { return server_.port(); }

 private:
  net::HttpServer server_;
};

TEST_F(DemoBugs, FailOpenWhenTheTokenServiceIsDownSlowOrBroken) {
  testing::Listener slow;  // accepts nothing: every check times out
  FakeTokens failing(500, "boom");
  FakeTokens garbage(200, "<html>maintenance</html>");
  const int down = testing::free_port();
  for (const int tokens_port : {down, slow.port(), failing.port(), garbage.port()}) {
    for (const bool on : {false, true}) {
      Shop shop(tokens_port, on ? "fail-open" : "", "300ms");
      auto r = shop.must("POST", "/checkout", "Bearer not-a-token", R"({"sku":"a1"})");
      if (on) {
        EXPECT_EQ(r.status, 201) << r.body;
        EXPECT_EQ(body_of(r)["user"], "anonymous");
        EXPECT_EQ(shop.must("GET", "/users/me", "Bearer not-a-token").status, 200);
        EXPECT_TRUE(shop.hit("fail-open"));
      } else {
        EXPECT_EQ(r.status, 503) << r.body;
        EXPECT_EQ(r.header("Retry-After"), "1");
        EXPECT_EQ(shop.must("GET", "/users/me/orders", kAlice).status, 503);
        EXPECT_FALSE(shop.any_hit()) << shop.child->output();
      }
      // No token at all is refused before the token service is asked, bug or not.
      EXPECT_EQ(shop.must("POST", "/checkout", {}, R"({"sku":"a1"})").status, 401);
    }
  }
}

TEST_F(DemoBugs, FailOpenDoesNothingWhileTheTokenServiceIsHealthy) {
  Shop shop(tokens.port, "fail-open");
  EXPECT_EQ(shop.must("POST", "/checkout", "Bearer not-a-token", R"({"sku":"a1"})").status, 401);
  EXPECT_EQ(shop.must("GET", "/users/me", kBob).status, 200);
  EXPECT_FALSE(shop.any_hit()) << shop.child->output();
}

// With every bug off: input the document calls invalid is refused with 400, never accepted, and a
// token service answer of the wrong shape is a 503, not a 500.
TEST_F(DemoBugs, TheCorrectShopRefusesWhatTheDocumentCallsInvalid) {
  Shop shop(tokens.port, "");
  EXPECT_EQ(shop.must("GET", "/products?limit=").status, 400);
  EXPECT_EQ(shop.must("GET", "/products?limit=51").status, 400);
  EXPECT_EQ(shop.must("GET", "/greet?name=Ada&format=").status, 400);
  EXPECT_EQ(shop.must("GET", "/greet?name=Ada&format=xml").status, 400);
  EXPECT_EQ(shop.must("POST", "/users/me/orders", kAlice, R"({"sku":"mug-7","quantity":2.0})").status, 400);
  EXPECT_EQ(shop.must("POST", "/users/me/orders", kAlice, R"({"sku":"mug-7","quantity":18446744073709551615})").status,
            400);
  EXPECT_EQ(shop.must("POST", "/users/me/orders", kAlice, R"({"sku":"Mug 7","quantity":1})").status, 400);
  EXPECT_EQ(shop.must("GET", "/users/me", "Bearer demo-" + std::string(2000, 'a')).status, 401);
  // Only the documented keys, each once, and only as application/json.
  EXPECT_EQ(shop.must("POST", "/users/me/orders", kAlice, R"({"sku":"mug-7","quantity":1,"role":"admin"})").status,
            400);
  EXPECT_EQ(shop.must("POST", "/users/me/orders", kAlice, R"({"sku":"mug-7","quantity":1,"quantity":-1})").status, 400);
  EXPECT_EQ(shop.must("POST", "/checkout", kAlice, R"({"sku":"a1","sku":"b2"})").status, 400);
  for (const auto* type : {"text/plain", "application/xml", "application/jsonx"}) {
    auto r = shop.must("POST", "/checkout", kAlice, {}, {{"Content-Type", type}});
    EXPECT_EQ(r.status, 415) << type;
  }
  EXPECT_EQ(shop.must("POST", "/checkout", kAlice, {}, {{"Content-Type", "Application/JSON; charset=utf-8"}}).status,
            400);
  // No Content-Type at all: read as JSON (the load tests' clients send none).
  net::Request untyped;
  untyped.method = "POST";
  untyped.target = "/checkout";
  untyped.headers.push_back({"Authorization", kAlice});
  untyped.body = R"({"sku":"a1"})";
  auto created = net::fetch(*net::Url::parse("http://127.0.0.1:" + std::to_string(shop.port) + "/"), untyped, 10s);
  ASSERT_TRUE(created.ok()) << created.error();
  EXPECT_EQ(created->status, 201) << created->body;
  for (const auto* verdict : {R"({"valid":"yes","user":"alice"})", R"({"valid":1,"user":"alice"})",
                              R"({"valid":true,"user":7})", R"([true])"}) {
    FakeTokens odd(200, verdict);
    Shop confused(odd.port(), "");
    auto r = confused.must("GET", "/users/me", kAlice);
    EXPECT_EQ(r.status, 503) << verdict << ": " << r.body;
  }
  EXPECT_FALSE(shop.any_hit()) << shop.child->output();
}

TEST_F(DemoBugs, BugNamesAreCheckedAndAllTurnsEveryOneOn) {
  Child unknown({testing::bin("demo-shop-api"), "--port", "0", "--tokens", "127.0.0.1:1", "--bug", "cors,nope"});
  EXPECT_EQ(unknown.wait(10s), 2);
  EXPECT_NE(unknown.output().find("unknown bug 'nope'"), std::string::npos) << unknown.output();
  Shop none(tokens.port, "none");
  EXPECT_NE(none.child->output().find("seeded bugs: none"), std::string::npos) << none.child->output();
  Shop all(tokens.port, "all");
  EXPECT_NE(all.child->output().find("seeded bugs: boundary-500,stack-leak,"), std::string::npos);
  Child repeated({testing::bin("demo-shop-api"), "--port", std::to_string(testing::free_port()), "--tokens",
                  "127.0.0.1:1", "--bug", "cors", "--bug", "hang"});
  EXPECT_TRUE(testing::wait_until([&] {
    return repeated.output().find("seeded bugs: cors,hang") != std::string::npos;
  })) << repeated.output();
}

// ---- All bugs off: every answer as documented ------------------------------------------------

json yaml_to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    json out = json::object();
    for (const auto& entry : node) out[entry.first.as<std::string>()] = yaml_to_json(entry.second);
    return out;
  }
  if (node.IsSequence()) {
    json out = json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item));
    return out;
  }
  if (node.IsNull()) return nullptr;
  const std::string text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: a string whatever it looks like
  if (text == "true" || text == "false") return text == "true";
  char* end = nullptr;
  const long long integer = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && *end == '\0') return integer;
  const double number = std::strtod(text.c_str(), &end);
  if (!text.empty() && *end == '\0') return number;
  return text;
}

// Inlines every local "$ref" and drops "example" (not JSON Schema).
json resolve(const json& node, const json& root) {
  if (node.is_object()) {
    if (node.contains("$ref")) {
      const std::string ref = node["$ref"];
      return resolve(root.at(json::json_pointer(ref.substr(1))), root);
    }
    json out = json::object();
    for (const auto& [key, value] : node.items()) {
      if (key != "example") out[key] = resolve(value, root);
    }
    return out;
  }
  if (node.is_array()) {
    json out = json::array();
    for (const auto& item : node) out.push_back(resolve(item, root));
    return out;
  }
  return node;
}

class Contract {
 public:
  Contract() {
    const json raw = yaml_to_json(YAML::LoadFile(testing::source_path("demo/shop-api.openapi.yaml")));
    document_ = resolve(raw, raw);
  }

  // Empty when the response is as documented; otherwise what differs.
  std::string check(const std::string& method, const std::string& target, const net::Response& response) const {
    const json* operation = find(method, target.substr(0, target.find('?')));
    if (!operation) return "no documented operation for " + method + " " + target;
    const std::string status = std::to_string(response.status);
    if (!(*operation)["responses"].contains(status)) return "status " + status + " is not documented";
    const json& documented = (*operation)["responses"][status];
    std::string type(response.header("Content-Type"));
    type = type.substr(0, type.find(';'));
    if (!documented.contains("content")) return response.body.empty() ? "" : "a body where none is documented";
    if (!documented["content"].contains(type)) return "content type '" + type + "' is not documented for " + status;
    if (type != "application/json") return {};
    auto body = json::parse(response.body, nullptr, false);
    if (body.is_discarded()) return "the body is not JSON: " + response.body;
    return validate(documented["content"][type]["schema"], body);
  }

 private:
  const json* find(const std::string& method, const std::string& path) const {
    std::string lower = method;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [templ, item] : document_["paths"].items()) {
      std::vector<std::string> a = split(templ), b = split(path);
      if (a.size() != b.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < a.size() && same; ++i) same = a[i] == b[i] || (a[i].front() == '{' && !b[i].empty());
      if (same && item.contains(lower)) return &item[lower];
    }
    return nullptr;
  }
  static std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> parts;
    std::stringstream in(path.substr(1));
    for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
    return parts;
  }
  static std::string validate(const json& schema_json, const json& body) {
    valijson::Schema schema;
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_json);
    parser.populateSchema(schema_adapter, schema);
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(body);
    if (validator.validate(schema, target, &results)) return {};
    std::string out = "body " + body.dump() + " does not match its schema:";
    valijson::ValidationResults::Error error;
    while (results.popError(error)) {
      std::string where;
      for (const auto& part : error.context) where += part;
      out += " " + where + ": " + error.description + ";";
    }
    return out;
  }

  json document_;
};

// The operation of the project's own OpenAPI model (src/openapi) that serves `method` `target`.
const openapi::Operation* operation_for(const openapi::Document& document, const std::string& method,
                                        const std::string& target) {
  const std::string path = target.substr(0, target.find('?'));
  auto parts = [](const std::string& p) {
    std::vector<std::string> out;
    std::stringstream in(p.substr(1));
    for (std::string part; std::getline(in, part, '/');) out.push_back(part);
    return out;
  };
  for (const auto& operation : document.operations) {
    if (operation.method != method) continue;
    auto a = parts(operation.path), b = parts(path);
    if (a.size() != b.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < a.size() && same; ++i) same = a[i] == b[i] || (a[i].front() == '{' && !b[i].empty());
    if (same) return &operation;
  }
  return nullptr;
}

TEST(DemoContract, TheDocumentCatchesAnUndocumentedAnswer) {
  Contract contract;
  net::Response drifted = net::Response::json(200, R"({"id":2,"sku":"mug-7","name":"Mug","price":"8.00","stock":1})");
  EXPECT_NE(contract.check("GET", "/products/2", drifted).find("does not match"), std::string::npos);
  EXPECT_NE(contract.check("GET", "/products/2", net::Response::json(500, "{}")), "");
  EXPECT_NE(contract.check("GET", "/products/2", net::Response::text(200, "x")), "");
  EXPECT_EQ(contract.check("GET", "/products/2", net::Response::json(404, R"({"error":"no"})")), "");
}

TEST(DemoContract, WithEveryBugOffEveryAnswerIsDocumentedAndCarriesTheSecurityHeaders) {
  TokenService tokens;
  Shop shop(tokens.port, "");
  Shop stranded(testing::free_port(), "", "300ms");  // its token service is not there: fail closed
  Contract contract;
  // The same check by the project's own OpenAPI reader and response checker (src/openapi).
  auto document = openapi::load(testing::source_path("demo/shop-api.openapi.yaml"));
  ASSERT_TRUE(document.ok()) << document.error();
  openapi::ResponseChecker checker(*document);
  const std::string long_text(300, 'x');
  const std::vector<std::string> junk = {"",
                                         "0",
                                         "-1",
                                         "1.5",
                                         "abc",
                                         "%27",
                                         "%00",
                                         "%FF%FE",
                                         "99999999999999999999999",
                                         long_text,
                                         "..%2F..%2Fetc%2Fpasswd",
                                         "%3Cb%3E",
                                         "%7B%7B7*7%7D%7D"};
  struct Call {
    std::string method, target, authorization, body;
    const Shop* to;
  };
  std::vector<Call> calls;
  auto add = [&](std::string method, std::string target, std::string authorization = {}, std::string body = {}) {
    calls.push_back({method, target, authorization, body, &shop});
  };
  const auto alice_order = std::to_string(create_order(shop, kAlice, R"({"sku":"mug-7","quantity":2})"));
  const auto bob_order = std::to_string(create_order(shop, kBob, R"({"sku":"pen-12","quantity":1})"));
  add("GET", "/health");
  for (const auto& v : junk) {
    add("GET", "/products?search=" + v);
    add("GET", "/products?limit=" + v);
    add("GET", "/files?name=" + v);
    add("GET", "/greet?name=" + v);
    add("GET", "/greet?name=Ada&format=" + v);
    add("GET", "/page?q=" + v);
    if (v.empty()) continue;  // a path parameter is never empty: "/products/" is no operation
    add("GET", "/products/" + v);
    add("GET", "/orders/" + v);
    add("GET", "/users/me/orders/" + v, kAlice);
    add("DELETE", "/users/me/orders/" + v, kBob);
  }
  for (const auto& id : {alice_order, bob_order, std::string("12345")}) {
    add("GET", "/orders/" + id);
    add("GET", "/users/me/orders/" + id, kBob);
    add("PUT", "/users/me/orders/" + id, kBob, R"({"sku":"lamp-3","quantity":3})");
  }
  add("GET", "/products?search=desk&limit=1");
  add("GET", "/products?limit=");
  add("GET", "/greet?name=Ada&format=");
  add("GET", "/health?" + std::string(9000, 'a'));                   // 414 on any operation
  add("GET", "/users/me", "Bearer demo-" + std::string(2000, 'a'));  // no token is that long: 401
  add("GET", "/files?name=readme.txt");
  add("GET", "/greet?name=Ada&format=html");
  add("GET", "/page?q=lamp");
  add("GET", "/page");
  for (const auto& auth : {std::string(), std::string("Bearer "), std::string("Basic YTpi"), std::string("Bearer x"),
                           std::string("Bearer demo-")}) {
    add("GET", "/users/me", auth);
    add("GET", "/users/me/orders", auth);
    add("POST", "/users/me/orders", auth, R"({"sku":"mug-7","quantity":1})");
    add("POST", "/checkout", auth, R"({"sku":"a1"})");
    add("GET", "/users/me/orders/" + alice_order, auth);
  }
  for (const auto& body :
       {std::string("{}"), std::string("[]"), std::string("null"), std::string("{\"sku\":7}"),
        std::string("{\"sku\":\"mug-7\",\"quantity\":\"2\"}"), std::string("{\"sku\":\"MUG\",\"quantity\":1}"),
        std::string("{\"sku\":\"mug-7\",\"quantity\":1e300}"), std::string("{\"sku\":\"mug-7\",\"quantity\":2.0}"),
        std::string("{\"sku\":\"mug-7\",\"quantity\":18446744073709551615}"),
        std::string("{\"sku\":\"mug-7\",\"quantity\":0}"),
        std::string("{\"sku\":\"mug-7\",\"quantity\":1,\"extra\":true}"), std::string("not json"),
        std::string("{\"sku\":\"") + std::string(70, 'a') + "\"}", std::string(70 * 1024, '{')}) {
    add("POST", "/checkout", kAlice, body);
    add("POST", "/users/me/orders", kAlice, body);
    add("PUT", "/users/me/orders/" + alice_order, kAlice, body);
  }
  add("GET", "/users/me", kAlice);
  add("GET", "/users/me/orders", kAlice);
  add("DELETE", "/users/me/orders/" + alice_order, kAlice);
  add("GET", "/users/me/orders/" + alice_order, kAlice);
  add("GET", "/orders/" + alice_order);
  add("GET", "/products?search=" + std::string(9000, 'a'));  // beyond the request line limit: 414
  for (const auto& target : {"/users/me", "/users/me/orders", "/users/me/orders/1"}) {
    calls.push_back({"GET", target, kAlice, {}, &stranded});
  }
  calls.push_back({"POST", "/checkout", kAlice, R"({"sku":"a1"})", &stranded});

  for (const auto& c : calls) {
    SCOPED_TRACE(c.method + " " + c.target.substr(0, 120) + " [" + c.authorization + "] " + c.body.substr(0, 80));
    auto response = c.to->must(c.method, c.target, c.authorization, c.body, {{"Origin", "https://evil.example"}});
    EXPECT_EQ(response.status >= 500, c.to == &stranded) << response.status;  // only fail-closed 503s
    if (c.to == &stranded) {
      EXPECT_EQ(response.status, 503);
    }
    EXPECT_EQ(contract.check(c.method, c.target, response), "") << response.body.substr(0, 300);
    const openapi::Operation* operation = operation_for(*document, c.method, c.target);
    ASSERT_NE(operation, nullptr);
    EXPECT_EQ(checker.check(*operation, response.status, response.header("Content-Type"), response.body), std::nullopt)
        << operation->id << ": " << response.body.substr(0, 300);
    EXPECT_EQ(response.header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(response.header("Cache-Control"), "no-store");
    EXPECT_FALSE(response.has_header("Access-Control-Allow-Origin"));
    EXPECT_FALSE(response.has_header("Server"));
    EXPECT_FALSE(response.has_header("X-Powered-By"));
    if (response.header("Content-Type").starts_with("text/html")) {
      EXPECT_EQ(response.header("Content-Security-Policy"), "default-src 'none'; frame-ancestors 'none'");
      EXPECT_EQ(response.header("X-Frame-Options"), "DENY");
      for (const auto* raw : {"<b>", "<script", "49"}) EXPECT_EQ(response.body.find(raw), std::string::npos);
    }
    for (const auto* leak : {".cpp", "SQL", "root:", "terminate called", "127.0.0.1"}) {
      EXPECT_EQ(response.body.find(leak), std::string::npos) << response.body.substr(0, 300);
    }
  }
  EXPECT_FALSE(shop.any_hit()) << shop.child->output();
  EXPECT_TRUE(shop.child->running());
}

}  // namespace
}  // namespace chaosplus
