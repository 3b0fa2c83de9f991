// The security scanner against real servers: a notes API whose auth check asks a second server
// (its auth dependency), with planted bugs that can be switched off one by one: a check that fails
// open when the dependency is unreachable, a search that reflects SQL errors, a file read that
// follows ../. The fault is real (the dependency is stopped) and announced on the event bus as the
// runner announces one, so the findings carry its name. With the bugs off: no finding at all.
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "core/event_bus.h"
#include "fuzz/chaos_context.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "openapi/document.h"
#include "security/scanner.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using testing::TempDir;

constexpr const char* kDocument = R"(openapi: 3.0.3
info: {title: notes, version: "1"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
paths:
  /health:
    get:
      operationId: health
      responses: {"200": {description: ok}}
  /notes:
    post:
      operationId: createNote
      security: [{bearer: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [text]
              properties:
                text: {type: string, example: "remember the milk"}
      responses: {"201": {description: created}}
  /notes/{id}:
    get:
      operationId: getNote
      security: [{bearer: []}]
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses: {"200": {description: the note}, "404": {description: not yours}}
  /search:
    get:
      operationId: search
      parameters:
        - {name: q, in: query, required: true, schema: {type: string}, example: milk}
      responses: {"200": {description: matches}}
  /ping:
    get:
      operationId: ping
      parameters:
        - {name: host, in: query, required: true, schema: {type: string}, example: localhost}
      responses: {"200": {description: reachable}}
  /files:
    get:
      operationId: readFile
      parameters:
        - {name: name, in: query, required: true, schema: {type: string}, example: readme.txt}
      responses: {"200": {description: the file}, "404": {description: none}}
)";

struct Bugs {
  bool fail_open = false;
  bool sql_errors = false;
  bool traversal = false;
  bool command = false;  // /ping runs its host through a "shell": `sleep N` in it sleeps
};

// The auth dependency: "Bearer t-alice" is alice, "Bearer t-bob" bob; anything else is refused.
class AuthService {
 public:
  AuthService() {
    server_ = std::make_unique<net::HttpServer>(net::HttpServer::Options{}, [](const net::Request& r) {
      const std::string token(r.header("Authorization"));
      if (token != "Bearer t-alice" && token != "Bearer t-bob") return net::Response::json(401, R"({"valid":false})");
      return net::Response::json(200, R"({"user":")" + token.substr(9) + R"("})");
    });
  }
  Status start() { return server_->start(); }
  void stop() { server_->stop(); }
  int port() const { return server_->port(); }

 private:
  std::unique_ptr<net::HttpServer> server_;
};

class NotesApi {
 public:
  NotesApi(Bugs bugs, int auth_port, int port = 0) : bugs_(bugs), auth_port_(auth_port) {
    net::HttpServer::Options options;
    options.port = port;
    server_ = std::make_unique<net::HttpServer>(options, [this](const net::Request& r) { return secured(handle(r)); });
  }
  int port() const { return server_->port(); }
  Status start() { return server_->start(); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

 private:
  static net::Response secured(net::Response r) {
    r.set_header("X-Content-Type-Options", "nosniff");
    r.set_header("Cache-Control", "no-store");
    return r;
  }

  // The caller's user, "" when refused, nullopt when the dependency could not be asked.
  std::optional<std::string> who(const net::Request& r) {
    net::Request check;
    check.method = "GET";
    check.target = "/check";
    check.headers.push_back({"Host", "127.0.0.1"});
    check.headers.push_back({"Authorization", std::string(r.header("Authorization"))});
    auto url = net::Url::parse("http://127.0.0.1:" + std::to_string(auth_port_) + "/");
    auto answer = net::fetch(*url, std::move(check), std::chrono::seconds(1));
    if (!answer) return std::nullopt;
    if (answer->status != 200) return std::string();
    auto json = nlohmann::json::parse(answer->body, nullptr, false);
    return json.is_object() ? json.value("user", "") : "";
  }

  net::Response handle(const net::Request& r) {
    const std::string path = r.path();
    if (path == "/health") return net::Response::json(200, R"({"ok":true})");
    if (path == "/search") {
      const std::string q = r.query_param("q");
      if (bugs_.sql_errors && q.find('\'') != std::string::npos) {
        return net::Response::json(500, R"({"error":"ERROR:  syntax error at or near \"'\""})");
      }
      return net::Response::json(200, "[]");
    }
    if (path == "/ping") {
      const std::string host = r.query_param("host");
      // The planted bug: the host goes to a shell, so "; sleep 1" sleeps (the behaviour under test).
      if (const auto at = host.find("sleep "); bugs_.command && at != std::string::npos && at + 6 < host.size() &&
                                               std::isdigit(static_cast<unsigned char>(host[at + 6]))) {
        std::this_thread::sleep_for(std::chrono::seconds(host[at + 6] - '0'));
      }
      return net::Response::json(200, R"({"reachable":true})");
    }
    if (path == "/files") {
      const std::string name = r.query_param("name");
      if (bugs_.traversal && name.find("etc/passwd") != std::string::npos) {
        return net::Response::text(200, "root:x:0:0:root:/root:/bin/bash\n");
      }
      if (name == "readme.txt") return net::Response::text(200, "hello\n");
      return net::Response::json(404, R"({"error":"no such file"})");
    }
    if (path == "/notes" || path.starts_with("/notes/")) {
      auto user = who(r);
      if (!user) {
        // The planted bug: the dependency is down, so let the caller in.
        if (!bugs_.fail_open) return net::Response::json(503, R"({"error":"auth unavailable"})");
        user = "";
      } else if (user->empty()) {
        return net::Response::json(401, R"({"error":"invalid token"})");
      }
      std::lock_guard lock(mutex_);
      if (path == "/notes" && r.method == "POST") {
        auto body = nlohmann::json::parse(r.body, nullptr, false);
        const std::string id = "n" + std::to_string(++next_);
        notes_[id] = {*user, body.is_object() ? body.value("text", "") : ""};
        return net::Response::json(201, nlohmann::json{{"id", id}, {"owner", *user}}.dump());
      }
      if (r.method == "GET" && path.size() > 7) {
        auto it = notes_.find(path.substr(7));
        const bool open = bugs_.fail_open && !who(r).has_value();
        if (it == notes_.end() || (it->second.first != *user && !open)) {
          return net::Response::json(404, R"({"error":"no such note"})");
        }
        return net::Response::json(
            200, nlohmann::json{{"id", it->first}, {"owner", it->second.first}, {"text", it->second.second}}.dump());
      }
      return net::Response::json(405, R"({"error":"method"})");
    }
    return net::Response::json(404, R"({"error":"not found"})");
  }

  Bugs bugs_;
  int auth_port_;
  std::mutex mutex_;
  int next_ = 0;
  std::map<std::string, std::pair<std::string, std::string>> notes_;  // id -> owner, text
  std::unique_ptr<net::HttpServer> server_;
};

struct Fixture {
  explicit Fixture(Bugs bugs) {
    EXPECT_TRUE(auth.start().ok());
    api = std::make_unique<NotesApi>(bugs, auth.port());
    EXPECT_TRUE(api->start().ok());
    testing::write_file(dir.file("notes.yaml"), kDocument);
    auto loaded = openapi::load(dir.file("notes.yaml"));
    EXPECT_TRUE(loaded) << loaded.error();
    document = std::move(loaded).value();
    context.attach(bus);
  }

  security::ScanOptions options() const {
    security::ScanOptions o;
    o.base = *net::Url::parse(api->base());
    o.users = {{"alice", "Authorization", "Bearer t-alice"}, {"bob", "Authorization", "Bearer t-bob"}};
    o.checks = {"auth", "injection", "headers"};
    o.delay = std::chrono::seconds(1);
    o.timeout = std::chrono::seconds(3);
    return o;
  }

  // What the runner publishes around a fault.
  void fault_on(const std::string& summary) {
    bus.publish(Event("fault.injected").with("fault", "down").with("target", "auth").with("summary", summary));
  }
  void fault_off(const std::string& summary) {
    bus.publish(Event("fault.reverted").with("fault", "down").with("target", "auth").with("summary", summary));
  }

  TempDir dir;
  AuthService auth;
  std::unique_ptr<NotesApi> api;
  openapi::Document document;
  EventBus bus;
  fuzz::ChaosContext context;
};

std::vector<std::string> oracles(const std::vector<fuzz::Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(f.oracle + " " + f.operation + " " + f.signature);
  return out;
}

const fuzz::Finding* find(const std::vector<fuzz::Finding>& findings, const std::string& oracle) {
  for (const auto& f : findings) {
    if (f.oracle == oracle) return &f;
  }
  return nullptr;
}

TEST(SecurityScan, FailOpenIsFoundOnlyWhileTheAuthDependencyIsDownAndNamesTheFault) {
  Fixture fx(Bugs{true, true, true, false});
  security::Scanner scanner(fx.document, fx.options(), fx.context);
  ASSERT_EQ(scanner.learn_baseline(), security::Scanner::Baseline::learned);
  EXPECT_GT(scanner.auth_probes(), 0u);
  scanner.recheck_auth();
  EXPECT_EQ(find(scanner.findings().all(), "fail_open"), nullptr)
      << ::testing::PrintToString(oracles(scanner.findings().all()));
  EXPECT_EQ(find(scanner.findings().all(), "auth_inconsistent"), nullptr);

  // The fault: the auth dependency goes down, and the run says so.
  fx.fault_on("down auth (stopped)");
  fx.auth.stop();
  scanner.recheck_auth();
  const auto findings = scanner.findings().all();
  const fuzz::Finding* open = find(findings, "fail_open");
  ASSERT_NE(open, nullptr) << ::testing::PrintToString(oracles(findings));
  EXPECT_EQ(open->severity, fuzz::Severity::critical);
  EXPECT_EQ(open->engine, "security");
  EXPECT_EQ(open->active_faults, (std::vector<std::string>{"down auth (stopped)"}));
  EXPECT_EQ(open->trigger.rule, "status_class");
  EXPECT_EQ(open->wfc, "307");
  EXPECT_NE(open->evidence.find("replays only while that fault is on"), std::string::npos) << open->evidence;
  EXPECT_FALSE(open->curl.empty());
  EXPECT_FALSE(open->raw_request.empty());
}

// A target that crashed and is restarted by its supervisor a second later: the probes that found it
// gone are sent again once it is back, instead of the scan ending with nothing.
TEST(SecurityScan, ATargetThatRestartsUnderTheScanIsWaitedForAndProbedAgain) {
  const Bugs bugs{false, true, true, false};
  Fixture fx(bugs);
  const auto options = fx.options();
  const int port = fx.api->port();
  const int auth_port = fx.auth.port();
  fx.api.reset();  // it died
  std::unique_ptr<NotesApi> restarted;
  std::thread supervisor([&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the downtime is the behaviour under test
    restarted = std::make_unique<NotesApi>(bugs, auth_port, port);
    EXPECT_TRUE(restarted->start().ok());
  });
  security::Scanner scanner(fx.document, options, fx.context);
  scanner.scan_injection();
  supervisor.join();
  const auto findings = scanner.findings().all();
  EXPECT_NE(find(findings, "sql_injection"), nullptr) << ::testing::PrintToString(oracles(findings));
  EXPECT_NE(find(findings, "path_traversal"), nullptr) << ::testing::PrintToString(oracles(findings));
}

TEST(SecurityScan, InjectionFindingsCarryEvidenceAndAReproducer) {
  Fixture fx(Bugs{false, true, true, false});
  security::Scanner scanner(fx.document, fx.options(), fx.context);
  scanner.scan_injection();
  const auto findings = scanner.findings().all();
  const fuzz::Finding* sql = find(findings, "sql_injection");
  ASSERT_NE(sql, nullptr) << ::testing::PrintToString(oracles(findings));
  EXPECT_EQ(sql->operation, "search");
  EXPECT_EQ(sql->wfc, "300");
  EXPECT_EQ(sql->trigger.rule, "body_contains");
  EXPECT_NE(sql->raw_request.find("GET /search?q=milk%27"), std::string::npos) << sql->raw_request;
  const fuzz::Finding* traversal = find(findings, "path_traversal");
  ASSERT_NE(traversal, nullptr) << ::testing::PrintToString(oracles(findings));
  EXPECT_EQ(traversal->operation, "readFile");
  EXPECT_EQ(traversal->trigger.value, "root:x:0:0:");
  // Each reproducer, sent again, still shows it.
  fuzz::SenderOptions sender;
  sender.base = *net::Url::parse(fx.api->base());
  for (const fuzz::Finding* f : {sql, traversal}) {
    EXPECT_TRUE(fuzz::reply_triggers(f->trigger, fuzz::exchange_once(sender, f->raw_request))) << f->title;
  }
}

TEST(SecurityScan, ACommandThatSleepsIsFoundByItsTimingAndAControlThatDoesNot) {
  Fixture fx(Bugs{false, false, false, true});
  auto options = fx.options();
  options.checks = {"injection"};
  security::Scanner scanner(fx.document, options, fx.context);
  scanner.scan_injection();
  const auto findings = scanner.findings().all();
  const fuzz::Finding* command = find(findings, "command_injection");
  ASSERT_NE(command, nullptr) << ::testing::PrintToString(oracles(findings));
  EXPECT_EQ(command->operation, "ping");
  EXPECT_EQ(command->severity, fuzz::Severity::critical);
  EXPECT_EQ(command->trigger.rule, "latency_over");
  EXPECT_NE(command->evidence.find("control without it"), std::string::npos) << command->evidence;
  // One finding for the input, not one per payload; nothing else on this server.
  EXPECT_EQ(findings.size(), 1u) << ::testing::PrintToString(oracles(findings));
}

TEST(SecurityScan, NoTimeCheckRunsWhileAFaultIsActive) {
  Fixture fx(Bugs{false, false, false, true});
  fx.fault_on("latency api 1s");
  auto options = fx.options();
  options.checks = {"injection"};
  security::Scanner scanner(fx.document, options, fx.context);
  scanner.scan_injection();
  // An injected latency would look like a sleep: the time payloads are not sent at all.
  EXPECT_EQ(find(scanner.findings().all(), "command_injection"), nullptr);
}

TEST(SecurityScan, ACorrectServerHasNoFindingsEvenWithItsDependencyDown) {
  Fixture fx(Bugs{});
  security::Scanner scanner(fx.document, fx.options(), fx.context);
  ASSERT_EQ(scanner.learn_baseline(), security::Scanner::Baseline::learned);
  scanner.scan_injection();
  scanner.scan_headers();
  scanner.recheck_auth();
  fx.fault_on("down auth (stopped)");
  fx.auth.stop();
  scanner.recheck_auth();  // 503: failing closed is a pass
  EXPECT_EQ(scanner.findings().size(), 0u) << ::testing::PrintToString(oracles(scanner.findings().all()));
  EXPECT_GT(scanner.requests(), 20u);
}

TEST(SecurityScan, NoBaselineIsTakenWhileAFaultIsActive) {
  Fixture fx(Bugs{true, false, false, false});
  fx.fault_on("latency auth 300ms");
  security::Scanner scanner(fx.document, fx.options(), fx.context);
  EXPECT_EQ(scanner.learn_baseline(), security::Scanner::Baseline::fault_active);
  EXPECT_FALSE(scanner.has_baseline());
  fx.fault_off("latency auth 300ms");
  EXPECT_EQ(scanner.learn_baseline(), security::Scanner::Baseline::learned);
}

TEST(SecurityScan, TheScanCommandWritesFindingsAndFailsOnSeverity) {
  Fixture fx(Bugs{false, true, false, false});
  testing::Child scan({testing::bin("chaosplus"), "scan", "--openapi", fx.dir.file("notes.yaml"), "--base-url",
                       fx.api->base(), "--user", "alice=Authorization: Bearer t-alice", "--user",
                       "bob=Authorization: Bearer t-bob", "--checks", "auth,injection,headers", "--findings",
                       fx.dir.file("f.json"), "--sarif", fx.dir.file("f.sarif"), "--fail-on", "high"});
  auto code = scan.wait(std::chrono::seconds(120));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1) << scan.output();
  EXPECT_NE(scan.output().find("sql_injection"), std::string::npos) << scan.output();
  const auto json = nlohmann::json::parse(testing::read_file(fx.dir.file("f.json")));
  ASSERT_EQ(json["findings"].size(), 1u) << json.dump(2);
  EXPECT_EQ(json["findings"][0]["oracle"], "sql_injection");
  EXPECT_EQ(nlohmann::json::parse(testing::read_file(fx.dir.file("f.sarif")))["version"], "2.1.0");

  // Not loopback: refused before anything is sent.
  testing::Child remote(
      {testing::bin("chaosplus"), "scan", "--openapi", fx.dir.file("notes.yaml"), "--base-url", "http://192.0.2.1:80"});
  EXPECT_EQ(remote.wait(std::chrono::seconds(30)), 3) << remote.output();
}

// A run: the auth dependency sits behind the run's fault proxy, and a `reset` fault on it in the
// middle of the phase is what opens the planted API. The security activity learns its baseline
// before the fault, and the fail-open finding it publishes names the fault.
struct RunFixture {
  explicit RunFixture(Bugs bugs) {
    EXPECT_TRUE(auth.start().ok());
    api = std::make_unique<NotesApi>(bugs, proxy);
    EXPECT_TRUE(api->start().ok());
    testing::write_file(dir.file("notes.yaml"), kDocument);
  }

  int run(std::string* output) {
    const std::string yaml = R"(name: notes-fail-open
targets:
  auth:
    endpoint: "127.0.0.1:)" + std::to_string(auth.port()) +
                             R"("
    proxy: { listen: "127.0.0.1:)" +
                             std::to_string(proxy) + R"(", upstream: "127.0.0.1:)" + std::to_string(auth.port()) +
                             R"(" }
phases:
  - name: auth-down
    duration: 6s
    faults:
      - reset: { target: auth, at: 2s, for: 3s }
    security:
      name: notes
      openapi: )" + dir.file("notes.yaml") +
                             R"(
      base_url: )" + api->base() +
                             R"(
      users:
        - { name: alice, header: "Authorization: Bearer t-alice" }
        - { name: bob, header: "Authorization: Bearer t-bob" }
      checks: [auth]
      recheck: 200ms
      thresholds: ["findings{severity>=critical} < 1"]
)";
    testing::write_file(dir.file("experiment.yaml"), yaml);
    testing::Child c({testing::bin("chaosplus"), "run", dir.file("experiment.yaml"), "--plain", "--state-dir",
                      dir.file("state"), "--journal", dir.file("journal.jsonl")});
    auto code = c.wait(std::chrono::seconds(90));
    *output = c.output();
    return code.value_or(-1);
  }

  std::vector<nlohmann::json> events() const {
    std::vector<nlohmann::json> out;
    for (const auto& line : testing::read_lines(dir.file("journal.jsonl"))) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
    }
    return out;
  }

  TempDir dir;
  AuthService auth;
  int proxy = testing::free_port();
  std::unique_ptr<NotesApi> api;
};

TEST(SecurityActivity, AFailOpenAppearsOnlyAfterTheFaultAndNamesIt) {
  RunFixture r(Bugs{true, false, false, false});
  std::string out;
  EXPECT_EQ(r.run(&out), 1) << out;  // the threshold on critical findings is missed
  bool injected = false;
  std::string fault_summary;
  int fail_open = 0;
  nlohmann::json summary, judged;
  for (const auto& e : r.events()) {
    const std::string type = e.value("type", "");
    if (type == "fault.injected") injected = true, fault_summary = e.value("summary", "");
    if (type == "fault.reverted") injected = false;
    if (type == "security.finding" && e.value("oracle", "") == "fail_open") {
      ++fail_open;
      EXPECT_TRUE(injected) << "a fail-open finding before the fault: " << e.dump();
      EXPECT_EQ(e.value("severity", ""), "critical");
      EXPECT_NE(e.value("active_faults", "").find(fault_summary), std::string::npos) << e.dump();
      EXPECT_NE(e.value("title", "").find(fault_summary), std::string::npos) << e.dump();
    }
    if (type == "security.summary") summary = e;
    if (type == "threshold.result") judged = e;
  }
  EXPECT_GT(fail_open, 0) << out;
  ASSERT_FALSE(summary.is_null()) << out;
  EXPECT_NE(summary.value("baseline", "").find("learned"), std::string::npos) << summary.dump();
  EXPECT_EQ(judged.value("metric", ""), "security.notes.findings") << judged.dump();
  EXPECT_FALSE(judged.value("held", true));
}

TEST(SecurityActivity, AServerThatFailsClosedHoldsTheThreshold) {
  RunFixture r(Bugs{});
  std::string out;
  EXPECT_EQ(r.run(&out), 0) << out;
  for (const auto& e : r.events()) EXPECT_NE(e.value("type", ""), "security.finding") << e.dump();
}

// The demo shop (demo/README.md) with its seeded bugs on: `chaosplus scan` from its OpenAPI
// document alone finds each bug class the security probes cover; with every bug off, nothing.
struct DemoShop {
  explicit DemoShop(const std::string& bugs)
      : tokens({testing::bin("demo-token-service"), "--port", std::to_string(tokens_port)}),
        shop({testing::bin("demo-shop-api"), "--port", std::to_string(shop_port), "--tokens",
              "127.0.0.1:" + std::to_string(tokens_port), "--files", dir.file("files"), "--bug", bugs}) {
    EXPECT_TRUE(testing::wait_until([&] { return up(tokens_port); }));
    EXPECT_TRUE(testing::wait_until([&] { return up(shop_port); }));
  }
  static bool up(int port) {
    auto r = net::fetch("GET", "http://127.0.0.1:" + std::to_string(port) + "/health", {}, std::chrono::seconds(1));
    return r && r->status == 200;
  }
  std::pair<int, std::string> scan() {
    testing::Child c({testing::bin("chaosplus"), "scan", "--openapi",
                      testing::source_path("demo/shop-api.openapi.yaml"), "--base-url",
                      "http://127.0.0.1:" + std::to_string(shop_port), "--user",
                      "alice=Authorization: Bearer demo-alice", "--user", "bob=Authorization: Bearer demo-bob",
                      "--findings", dir.file("f.json"), "--fail-on", "info"});
    auto code = c.wait(std::chrono::seconds(180));
    return {code.value_or(-1), c.output()};
  }
  std::set<std::string> oracles() const {
    std::set<std::string> out;
    const auto file = nlohmann::json::parse(testing::read_file(dir.file("f.json")));
    for (const auto& f : file["findings"]) out.insert(f["oracle"].get<std::string>());
    return out;
  }

  TempDir dir;
  int tokens_port = testing::free_port();
  int shop_port = testing::free_port();
  testing::Child tokens;
  testing::Child shop;
};

TEST(SecurityDemo, EverySeededBugTheProbesCoverIsFound) {
  DemoShop demo("bola,sql-injection,path-traversal,template-injection,reflected-xss,cors");
  auto [code, out] = demo.scan();
  EXPECT_EQ(code, 1) << out;
  const auto found = demo.oracles();
  for (const char* oracle :
       {"bola", "sql_injection", "path_traversal", "template_injection", "reflected_markup", "cors_misconfiguration"}) {
    EXPECT_TRUE(found.contains(oracle)) << oracle << " not found:\n" << out;
  }
}

TEST(SecurityDemo, TheCorrectShopHasNoFinding) {
  DemoShop demo("none");
  auto [code, out] = demo.scan();
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(demo.oracles().empty()) << out;
}

// The demo shop in a run, its token service behind the fault proxy: slow (past the shop's token
// timeout), then unreachable. With the fail-open bug the security activity finds it only while a
// fault is on and names that fault; the correct shop fails closed and the run holds.
struct DemoRun {
  int run(const std::string& bugs, std::string* output) {
    const std::string t = std::to_string(tokens), p = std::to_string(proxy), s = std::to_string(shop);
    const std::string yaml = R"(name: demo-fail-open
targets:
  tokens:
    process:
      command: [demo-token-service, --port, ")" +
                             t +
                             R"("]
      ready: { http: "http://127.0.0.1:)" +
                             t +
                             R"(/health", timeout: 10s }
    proxy: { listen: "127.0.0.1:)" +
                             p + R"(", upstream: "127.0.0.1:)" + t + R"(" }
  shop:
    process:
      command: [demo-shop-api, --port, ")" +
                             s + R"(", --tokens, "127.0.0.1:)" + p + R"(", --tokens-timeout, 300ms, --bug, )" + bugs +
                             R"(, --files, )" + dir.file("files") + R"(]
      ready: { http: "http://127.0.0.1:)" +
                             s +
                             R"(/health", timeout: 10s }
phases:
  - name: degraded
    duration: 10s
    faults:
      - latency: { target: tokens, at: 2s, for: 3s, latency: 800ms }
      - reset: { target: tokens, at: 6s, for: 3s }
    security:
      name: shop
      openapi: )" + testing::source_path("demo/shop-api.openapi.yaml") +
                             R"(
      base_url: http://127.0.0.1:)" +
                             s +
                             R"(
      users:
        - { name: alice, header: "Authorization: Bearer demo-alice" }
        - { name: bob, header: "Authorization: Bearer demo-bob" }
      checks: [auth, injection, headers]
      recheck: 300ms
      thresholds: ["findings{severity>=critical} < 1", "findings < 1"]
)";
    testing::write_file(dir.file("experiment.yaml"), yaml);
    testing::Child c({testing::bin("chaosplus"), "run", dir.file("experiment.yaml"), "--plain", "--state-dir",
                      dir.file("state"), "--journal", dir.file("journal.jsonl")});
    auto code = c.wait(std::chrono::seconds(120));
    *output = c.output();
    return code.value_or(-1);
  }

  std::vector<nlohmann::json> events() const {
    std::vector<nlohmann::json> out;
    for (const auto& line : testing::read_lines(dir.file("journal.jsonl"))) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
    }
    return out;
  }

  TempDir dir;
  int tokens = testing::free_port();
  int proxy = testing::free_port();
  int shop = testing::free_port();
};

TEST(SecurityDemo, TheFailOpenShopIsCaughtOnlyWhileItsTokenServiceIsDegraded) {
  DemoRun r;
  std::string out;
  EXPECT_EQ(r.run("fail-open", &out), 1) << out;
  std::vector<std::string> active;
  std::set<std::string> faults_named;
  int findings = 0;
  for (const auto& e : r.events()) {
    const std::string type = e.value("type", "");
    if (type == "fault.injected") active.push_back(e.value("summary", ""));
    if (type == "fault.reverted") active.clear();
    if (type != "security.finding") continue;
    ++findings;
    EXPECT_EQ(e.value("oracle", ""), "fail_open") << e.dump();
    ASSERT_EQ(active.size(), 1u) << "a finding while no fault was on: " << e.dump();
    EXPECT_EQ(e.value("active_faults", ""), nlohmann::json::array({active[0]}).dump()) << e.dump();
    faults_named.insert(active[0]);
  }
  EXPECT_GT(findings, 0) << out;
  EXPECT_FALSE(faults_named.empty());
}

TEST(SecurityDemo, TheCorrectShopFailsClosedAndTheRunHolds) {
  DemoRun r;
  std::string out;
  EXPECT_EQ(r.run("none", &out), 0) << out;
  for (const auto& e : r.events()) EXPECT_NE(e.value("type", ""), "security.finding") << e.dump();
}

}  // namespace
}  // namespace chaosplus
