#include "spec/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/allowed_hosts.h"
#include "spec/fault_catalog.h"
#include "support/support.h"

namespace chaosplus::spec {
namespace {

using namespace std::chrono_literals;
using testing::read_file;
using testing::source_path;

std::string data(const std::string& name) { return source_path("tests/data/experiments/" + name); }

std::string all_errors(const LoadResult& result) {
  std::string out;
  for (const auto& error : result.errors) out += error.to_string() + "\n";
  return out;
}

const Experiment& loaded(const LoadResult& result) {
  EXPECT_TRUE(result.ok()) << all_errors(result);
  if (!result.experiment) throw std::runtime_error("no experiment: " + all_errors(result));
  return *result.experiment;
}

bool has_error(const LoadResult& result, const std::string& part) {
  return std::any_of(result.errors.begin(), result.errors.end(),
                     [&](const Diagnostic& d) { return d.message.find(part) != std::string::npos; });
}

constexpr std::string_view kMinimal = R"(name: minimal
phases:
  - name: only
    duration: 1s
)";

class FullExperiment : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { result_ = new LoadResult(load_experiment_file(data("valid/full.yaml"))); }
  static void TearDownTestSuite() {
    delete result_;
    result_ = nullptr;
  }
  const Experiment& experiment() const { return loaded(*result_); }
  static LoadResult* result_;
};
LoadResult* FullExperiment::result_ = nullptr;

TEST_F(FullExperiment, LoadsWithoutErrors) {
  EXPECT_TRUE(result_->ok()) << all_errors(*result_);
  EXPECT_TRUE(result_->errors.empty());
}

TEST_F(FullExperiment, KeepsNameDescriptionAndSourcePath) {
  const auto& e = experiment();
  EXPECT_EQ(e.name, "checkout-survives-token-trouble");
  EXPECT_EQ(e.description, "Checkout keeps serving while the token service is slow, flaky and restarted.\n");
  EXPECT_EQ(e.source_path, data("valid/full.yaml"));
  EXPECT_EQ(e.outputs.journal, "{name}-{run}.jsonl");
}

TEST_F(FullExperiment, ReadsTargetsInFileOrder) {
  const auto& e = experiment();
  std::vector<std::string> names;
  for (const auto& t : e.targets) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"api", "tokens", "cache", "legacy", "worker"}));
  EXPECT_EQ(e.targets[0].mark.line, 7);
  EXPECT_EQ(e.targets[0].mark.column, 3);
}

TEST_F(FullExperiment, ReadsAProcessTargetWithEnvCwdAndHttpReadyCheck) {
  const Target* api = experiment().find_target("api");
  ASSERT_NE(api, nullptr);
  ASSERT_TRUE(api->process);
  EXPECT_FALSE(api->attach);
  EXPECT_FALSE(api->proxy);
  // Unquoted numbers and booleans in argv and env are taken as written.
  EXPECT_EQ(api->process->command, (std::vector<std::string>{"demo-shop-api", "--port", "18080", "--verbose", "true"}));
  EXPECT_EQ(api->process->env, (std::map<std::string, std::string>{{"SHOP_MODE", "demo"}, {"WORKERS", "4"}}));
  EXPECT_EQ(api->process->cwd, "/tmp");
  ASSERT_TRUE(api->process->ready);
  EXPECT_EQ(api->process->ready->http_url, "http://127.0.0.1:18080/health");
  EXPECT_FALSE(api->process->ready->tcp);
  EXPECT_EQ(api->process->ready->timeout, 15s);
}

TEST_F(FullExperiment, ReadsATcpReadyCheckAndAProxyWithExplicitUpstream) {
  const Target* tokens = experiment().find_target("tokens");
  ASSERT_NE(tokens, nullptr);
  ASSERT_TRUE(tokens->process && tokens->process->ready && tokens->process->ready->tcp);
  EXPECT_EQ(tokens->process->ready->tcp->to_string(), "127.0.0.1:18090");
  EXPECT_EQ(tokens->process->ready->timeout, 10s);
  EXPECT_TRUE(tokens->process->ready->http_url.empty());
  ASSERT_TRUE(tokens->proxy);
  EXPECT_EQ(tokens->proxy->listen.to_string(), "127.0.0.1:28090");
  EXPECT_EQ(tokens->proxy->upstream.to_string(), "127.0.0.1:18090");
}

TEST_F(FullExperiment, DefaultsTheProxyUpstreamToTheTargetEndpoint) {
  const Target* cache = experiment().find_target("cache");
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->endpoint && cache->proxy);
  EXPECT_EQ(cache->endpoint->host, "localhost");
  EXPECT_EQ(cache->endpoint->port, 16379);
  EXPECT_EQ(cache->proxy->listen.host, "::1");
  EXPECT_EQ(cache->proxy->listen.to_string(), "[::1]:26379");
  EXPECT_EQ(cache->proxy->upstream.to_string(), "localhost:16379");
}

TEST_F(FullExperiment, ReadsEachWayToAttach) {
  const auto& e = experiment();
  const Target* cache = e.find_target("cache");
  ASSERT_TRUE(cache && cache->attach);
  EXPECT_EQ(cache->attach->name, "redis-server");
  EXPECT_EQ(cache->attach->restart_command, (std::vector<std::string>{"redis-server", "--port", "16379"}));
  EXPECT_FALSE(cache->attach->pid);
  const Target* legacy = e.find_target("legacy");
  ASSERT_TRUE(legacy && legacy->attach);
  EXPECT_EQ(legacy->attach->pidfile, "/run/legacy.pid");
  EXPECT_TRUE(legacy->attach->name.empty());
  const Target* worker = e.find_target("worker");
  ASSERT_TRUE(worker && worker->attach);
  EXPECT_EQ(worker->attach->pid, 4242);
}

TEST_F(FullExperiment, ReadsAnHttpProbeWithEveryExpectation) {
  const Probe* probe = experiment().find_probe("checkout-ok");
  ASSERT_NE(probe, nullptr);
  const auto* http = std::get_if<HttpProbe>(&probe->kind);
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(http->method, "POST");
  EXPECT_EQ(http->url, "http://127.0.0.1:18080/checkout?dry=1");
  EXPECT_EQ(http->headers, (std::vector<std::pair<std::string, std::string>>{{"Content-Type", "application/json"},
                                                                             {"X-Retries", "3"}}));
  EXPECT_EQ(http->body, R"({"sku":"a1"})");
  EXPECT_EQ(http->timeout, 2s);
  EXPECT_EQ(probe->expect.status, (std::vector<int>{200, 201}));
  EXPECT_EQ(probe->expect.body_contains, "order");
  EXPECT_EQ(probe->expect.body_regex, R"("id":\s*"[0-9a-f]+")");
  ASSERT_TRUE(probe->expect.latency);
  EXPECT_EQ(probe->expect.latency->op, CompareOp::less);
  EXPECT_DOUBLE_EQ(probe->expect.latency->value, 0.3);
  EXPECT_EQ(probe->every, 500ms);
  ASSERT_TRUE(probe->tolerance);
  EXPECT_EQ(probe->tolerance->success_rate.op, CompareOp::greater_equal);
  EXPECT_DOUBLE_EQ(probe->tolerance->success_rate.value, 0.99);
  EXPECT_EQ(probe->tolerance->window, 30s);
}

TEST_F(FullExperiment, GivesAContinuousProbeWithoutToleranceTheDefaultOf95Percent) {
  const Probe* probe = experiment().find_probe("tokens-port");
  ASSERT_NE(probe, nullptr);
  const auto* tcp = std::get_if<TcpProbe>(&probe->kind);
  ASSERT_NE(tcp, nullptr);
  EXPECT_EQ(tcp->address.to_string(), "127.0.0.1:28090");
  EXPECT_EQ(tcp->timeout, 1s);
  ASSERT_TRUE(probe->tolerance);
  EXPECT_EQ(probe->tolerance->success_rate.op, CompareOp::greater_equal);
  EXPECT_DOUBLE_EQ(probe->tolerance->success_rate.value, 0.95);
  EXPECT_FALSE(probe->tolerance->window);
  ASSERT_TRUE(probe->expect.latency);
  EXPECT_EQ(probe->expect.latency->op, CompareOp::less_equal);
}

TEST_F(FullExperiment, ReadsACommandProbe) {
  const Probe* probe = experiment().find_probe("cache-ping");
  ASSERT_NE(probe, nullptr);
  const auto* command = std::get_if<CommandProbe>(&probe->kind);
  ASSERT_NE(command, nullptr);
  EXPECT_EQ(command->argv, (std::vector<std::string>{"redis-cli", "-p", "16379", "ping"}));
  EXPECT_EQ(command->timeout, 3s);
  EXPECT_EQ(probe->expect.exit_code, 0);
  EXPECT_EQ(probe->expect.output_contains, "PONG");
  EXPECT_EQ(probe->expect.output_regex, "^PONG");
  EXPECT_FALSE(probe->every);
  EXPECT_FALSE(probe->tolerance);
}

TEST_F(FullExperiment, AppliesHttpProbeDefaults) {
  const Probe* probe = experiment().find_probe("health");
  ASSERT_NE(probe, nullptr);
  const auto* http = std::get_if<HttpProbe>(&probe->kind);
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(http->method, "GET");
  EXPECT_EQ(http->timeout, 5s);
  EXPECT_TRUE(http->headers.empty());
  EXPECT_EQ(probe->expect.status, (std::vector<int>{200}));
  EXPECT_EQ(experiment().find_probe("nope"), nullptr);
}

TEST_F(FullExperiment, ReadsGuardrailsWithMetricsWindowsAndDefaults) {
  const auto& g = experiment().guardrails;
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0].name, "checkout-collapsed");
  EXPECT_EQ(g[0].probe, "checkout-ok");
  EXPECT_EQ(g[0].metric, GuardrailMetric::success_rate);
  EXPECT_EQ(g[0].condition.op, CompareOp::less);
  EXPECT_DOUBLE_EQ(g[0].condition.value, 0.8);
  EXPECT_EQ(g[0].over, 10s);
  EXPECT_EQ(g[0].min_samples, 5);

  EXPECT_EQ(g[1].metric, GuardrailMetric::latency_p99);
  EXPECT_DOUBLE_EQ(g[1].condition.value, 0.2);
  EXPECT_EQ(g[1].over, 20s) << "'for' is an alias of 'over'";
  EXPECT_EQ(g[1].min_samples, 3);
  EXPECT_EQ(g[1].name, "tokens-port latency_p99 > 200ms over 20s");

  EXPECT_EQ(g[2].metric, GuardrailMetric::latency_p50);
  EXPECT_EQ(g[2].over, 10s);
  EXPECT_EQ(g[3].metric, GuardrailMetric::latency_p90);
  EXPECT_EQ(g[3].condition.op, CompareOp::greater_equal);
  EXPECT_EQ(g[3].min_samples, 1);
}

TEST_F(FullExperiment, ReadsPhasesAndNormalizesFaultParameters) {
  const auto& phases = experiment().phases;
  ASSERT_EQ(phases.size(), 3u);
  EXPECT_EQ(phases[0].name, "baseline");
  EXPECT_EQ(phases[0].duration, 30s);
  EXPECT_TRUE(phases[0].faults.empty());
  EXPECT_EQ(phases[1].duration, 2min);
  EXPECT_EQ(phases[2].duration, 90s);

  const auto& f = phases[1].faults;
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[0].type, "latency");
  EXPECT_EQ(f[0].target, "tokens");
  EXPECT_EQ(f[0].at, 0s);
  EXPECT_FALSE(f[0].length);
  EXPECT_EQ(f[0].params, (std::map<std::string, std::string>{
                             {"latency", "250ms"}, {"jitter", "50ms"}, {"direction", "upstream"}, {"share", "1"}}));
  EXPECT_EQ(f[1].type, "reset");
  EXPECT_EQ(f[1].at, 30s);
  EXPECT_EQ(f[1].length, 10s);
  EXPECT_EQ(f[1].params,
            (std::map<std::string, std::string>{{"after", "1s"}, {"direction", "downstream"}, {"share", "1"}}));
  EXPECT_EQ(f[2].type, "blackhole");
  EXPECT_EQ(f[2].params, (std::map<std::string, std::string>{{"share", "1"}}));
  EXPECT_EQ(f[3].type, "bandwidth");
  EXPECT_EQ(f[3].params,
            (std::map<std::string, std::string>{{"rate", "64000"}, {"direction", "downstream"}, {"share", "1"}}));
  EXPECT_EQ(f[4].type, "kill");
  EXPECT_EQ(f[4].params, (std::map<std::string, std::string>{{"signal", "SIGTERM"}}));
  EXPECT_EQ(f[5].type, "pause");
  EXPECT_EQ(f[5].target, "worker");
  EXPECT_EQ(f[6].type, "restart");
  EXPECT_EQ(f[6].target, "cache");
  EXPECT_EQ(f[0].mark.line, 67);
  EXPECT_EQ(f[0].mark.column, 9);

  ASSERT_EQ(phases[2].faults.size(), 1u);
  EXPECT_EQ(phases[2].faults[0].params, (std::map<std::string, std::string>{{"signal", "SIGKILL"}}));
}

TEST_F(FullExperiment, ReadsBothKindsOfRollback) {
  const auto& r = experiment().rollbacks;
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "flush-cache");
  ASSERT_TRUE(r[0].command);
  EXPECT_EQ(r[0].command->argv, (std::vector<std::string>{"redis-cli", "-p", "16379", "flushall"}));
  EXPECT_EQ(r[0].command->timeout, 5s);
  EXPECT_TRUE(r[0].restart_target.empty());
  EXPECT_FALSE(r[1].command);
  EXPECT_EQ(r[1].restart_target, "tokens");
  EXPECT_EQ(r[1].name, "restart tokens") << "a rollback without a name is named after what it does";
}

TEST(LoadExperiment, NamesARollbackWithoutANameAfterWhatItDoes) {
  auto result = load_experiment_text(
      std::string(kMinimal) + "rollbacks:\n  - command: { run: [redis-cli, flushall] }\n", "r.yaml");
  ASSERT_TRUE(result.ok()) << result.errors.front().to_string();
  EXPECT_EQ(result.experiment->rollbacks.at(0).name, "run redis-cli");
}

TEST(LoadExperiment, ShowsControlCharactersInMessagesEscaped) {
  // A NUL would cut the message where it is printed; a newline or an escape could forge output.
  auto result = load_experiment_text("name: \"a\\nb\\ec\"\nphases: [{name: p, duration: 1s}]\n", "n.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("found 'a\\nb\\x1bc'"), std::string::npos) << result.errors[0].message;
  for (char c : result.errors[0].to_string()) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  auto named = load_experiment_text(
      "name: \"a b\"\ntargets: {\"x\\ty\": {process: {command: [p]}}}\n"
      "phases: [{name: p, duration: 1s}]\n",
      "t.yaml");
  ASSERT_FALSE(named.ok());
  EXPECT_TRUE(std::any_of(named.errors.begin(), named.errors.end(), [](const Diagnostic& d) {
    return d.message.find("target name 'x\\ty'") != std::string::npos;
  })) << named.errors.front().to_string();
}

TEST(LoadExperiment, FillsDefaultsForAMinimalFile) {
  const auto result = load_experiment_text(kMinimal, "minimal.yaml");
  const Experiment& e = loaded(result);
  EXPECT_EQ(e.name, "minimal");
  EXPECT_EQ(e.source_path, "minimal.yaml");
  EXPECT_TRUE(e.targets.empty());
  EXPECT_TRUE(e.steady_state.probes.empty());
  EXPECT_TRUE(e.guardrails.empty());
  EXPECT_TRUE(e.rollbacks.empty());
  EXPECT_EQ(e.outputs.journal, "{name}-{run}.jsonl");
  ASSERT_EQ(e.phases.size(), 1u);
  EXPECT_EQ(e.phases[0].duration, 1s);
}

TEST(LoadExperiment, LoadsEveryFileInTheValidFolder) {
  for (const auto& entry : std::filesystem::directory_iterator(data("valid"))) {
    const auto result = load_experiment_file(entry.path().string());
    EXPECT_TRUE(result.ok()) << entry.path() << "\n" << all_errors(result);
  }
}

TEST(KernelFaultSettings, AreStoredNormalizedWithTheirDefaults) {
  const auto result = load_experiment_file(data("valid/kernel-faults.yaml"));
  const Experiment& e = loaded(result);
  ASSERT_EQ(e.phases.size(), 1u);
  const auto& f = e.phases[0].faults;
  ASSERT_EQ(f.size(), 7u);
  using Params = std::map<std::string, std::string>;
  // Not written: empty, so the fault takes the target's endpoint; protocol defaults to tcp.
  EXPECT_EQ(f[0].type, "partition");
  EXPECT_EQ(f[0].params, (Params{{"port", ""}, {"address", ""}, {"protocol", "tcp"}, {"namespace", ""}, {"peer", ""}}));
  EXPECT_EQ(f[1].params, (Params{{"port", "any"},
                                 {"address", "10.251.0.2"},
                                 {"protocol", "all"},
                                 {"namespace", "chaosplus-lab"},
                                 {"peer", "10.251.0.1"}}));
  EXPECT_EQ(f[4].type, "packet_loss");
  EXPECT_EQ(f[4].params.at("share"), "0.2");
  EXPECT_EQ(f[5].params.at("port"), "5353");
  EXPECT_EQ(f[5].params.at("protocol"), "udp");
  EXPECT_EQ(f[6].type, "bandwidth_limit");
  EXPECT_EQ(f[6].params,
            (Params{{"namespace", "chaosplus-lab"}, {"interface", "cpb0"}, {"rate", "1000000"}, {"burst", ""}}));
}

TEST(KernelFaultSettings, NameTheirOwnEndpointOnATargetWithoutOne) {
  const auto result = load_experiment_text(R"(name: k
targets:
  api: { process: { command: [api] } }
phases:
  - name: a
    duration: 1s
    faults:
      - reject: { target: api, address: "0:0::1", port: 8080 }
      - partition: { target: api, address: 127.0.0.2, port: 80, peer: 127.0.0.9/16 }
      - bandwidth_limit: { target: api, namespace: chaosplus-x, interface: v0, rate: 1KB/s, burst: 3KiB }
      - packet_loss: { target: api, namespace: chaosplus-x, port: 5353, protocol: udp, share: 50% }
)",
                                           "k.yaml");
  const auto& f = loaded(result).phases[0].faults;
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[3].params.at("address"), "") << "inside a namespace, every address";
  EXPECT_EQ(f[0].params.at("address"), "::1");
  EXPECT_EQ(f[0].params.at("port"), "8080");
  EXPECT_EQ(f[1].params.at("peer"), "127.0.0.0/16");
  EXPECT_EQ(f[2].params.at("burst"), "3072");
}

// Every example of docs/faults.md is in valid/kernel-faults.yaml or valid/fault-examples.yaml (both
// load without errors), and every fault type has one.
TEST(FaultDocs, EveryExampleIsInAValidExampleFileAndEveryTypeHasOne) {
  const std::string docs = read_file(source_path("docs/faults.md"));
  const std::string examples = read_file(data("valid/kernel-faults.yaml")) +
                               read_file(data("valid/fault-examples.yaml")) +
                               read_file(data("valid/database-faults.yaml"));
  std::set<std::string> shown;
  std::istringstream lines(docs);
  for (std::string line; std::getline(lines, line);) {
    for (const auto& type : fault_catalog()) {
      if (line.starts_with("  - " + std::string(type.name) + ": {")) {
        shown.insert(std::string(type.name));
        EXPECT_NE(examples.find(line), std::string::npos) << "not in a valid example file: " << line;
      }
    }
  }
  for (const auto& type : fault_catalog()) EXPECT_TRUE(shown.contains(std::string(type.name))) << type.name;
  for (const char* file : {"valid/kernel-faults.yaml", "valid/fault-examples.yaml", "valid/database-faults.yaml"}) {
    const auto result = load_experiment_file(data(file));
    std::string errors;
    for (const auto& e : result.errors) errors += e.to_string() + "\n";
    EXPECT_TRUE(result.ok()) << errors;
  }
}

TEST(LoadExperiment, ReturnsNoExperimentWhenAnythingIsWrong) {
  const auto result =
      load_experiment_text("name: almost\nphases:\n  - name: a\n    duration: 1s\n    extra: 1\n", "x.yaml");
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.experiment);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(
      result.errors[0].to_string(),
      "x.yaml:5:5: unknown key 'extra' in phase 'a', expected one of name, duration, faults, load, fuzz, security, "
      "extension, writes");
}

TEST(LoadExperiment, ReportsEveryProblemNotJustTheFirst) {
  const auto result = load_experiment_text(R"(name: many
targets:
  api: { process: { command: [api] } }
phases:
  - { name: a, duration: 1x }
  - { name: b, duration: 2s, faults: [ { kill: { target: apx } } ] }
  - { name: c, duraton: 3s }
)",
                                           "many.yaml");
  ASSERT_EQ(result.errors.size(), 3u) << all_errors(result);
  EXPECT_EQ(result.errors[0].line, 5);
  EXPECT_EQ(result.errors[1].line, 6);
  EXPECT_EQ(result.errors[2].line, 7);
}

TEST(LoadExperiment, ReportsAMissingFileWithItsPath) {
  const auto result = load_experiment_file("/nonexistent/experiment.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].file, "/nonexistent/experiment.yaml");
  EXPECT_EQ(result.errors[0].line, 0);
  EXPECT_NE(result.errors[0].to_string().find("/nonexistent/experiment.yaml: cannot read the file"), std::string::npos);
}

TEST(LoadExperiment, ReportsAFolderInsteadOfAFile) {
  const auto result = load_experiment_file(data("valid"));
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("is a directory"), std::string::npos);
}

TEST(LoadExperiment, RejectsAFileLargerThanOneMebibyte) {
  std::string text(kMinimal);
  text += "description: \"" + std::string(2 << 20, 'x') + "\"\n";
  const auto result = load_experiment_text(text, "big.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("expected at most 1048576"), std::string::npos);
}

TEST(LoadExperiment, AcceptsQuotedNumbersOnlyWhereTextIsExpected) {
  // An unquoted number is a number: a duration needs its unit, a pid must not be quoted.
  auto result = load_experiment_text(
      "name: q\ntargets:\n  w: { attach: { pid: \"12\" } }\nphases: [{name: a, duration: 1s}]\n", "q.yaml");
  EXPECT_TRUE(has_error(result, "pid: found text '12', expected an integer")) << all_errors(result);
}

TEST(Diagnostic, FormatsAsFileLineColumnMessage) {
  EXPECT_EQ((Diagnostic{"e.yaml", 4, 5, "boom"}).to_string(), "e.yaml:4:5: boom");
  EXPECT_EQ((Diagnostic{"e.yaml", 4, 0, "boom"}).to_string(), "e.yaml:4: boom");
  EXPECT_EQ((Diagnostic{"e.yaml", 0, 0, "boom"}).to_string(), "e.yaml: boom");
}

// ---- the loopback rule ----------------------------------------------------------------------

struct AddressCase {
  const char* field;
  std::string yaml;
};

std::string with_targets(const std::string& targets, const std::string& probes = "") {
  return "name: loopback\ntargets:\n" + targets + (probes.empty() ? "" : "steady_state:\n  probes:\n" + probes) +
         "phases: [{name: a, duration: 1s}]\n";
}

std::vector<AddressCase> address_cases(const std::string& host, const std::string& url_host) {
  return {
      {"endpoint", with_targets("  t: { endpoint: \"" + host + ":80\" }\n")},
      {"listen", with_targets("  t: { endpoint: \"127.0.0.1:80\", proxy: { listen: \"" + host + ":81\" } }\n")},
      {"upstream", with_targets("  t: { endpoint: \"127.0.0.1:80\", proxy: { listen: \"127.0.0.1:81\", upstream: \"" +
                                host + ":82\" } }\n")},
      {"ready http",
       with_targets("  t: { process: { command: [x], ready: { http: \"http://" + url_host + ":80/\" } } }\n")},
      {"ready tcp", with_targets("  t: { process: { command: [x], ready: { tcp: \"" + host + ":80\" } } }\n")},
      {"http probe", with_targets("  t: { endpoint: \"127.0.0.1:80\" }\n",
                                  "    - { name: p, http: { url: \"https://" + url_host + "/x\" } }\n")},
      {"tcp probe", with_targets("  t: { endpoint: \"127.0.0.1:80\" }\n",
                                 "    - { name: p, tcp: { address: \"" + host + ":80\" } }\n")},
  };
}

TEST(LoopbackRule, RejectsEveryNonLoopbackHostInEveryAddressField) {
  for (const auto& [host, url_host] :
       std::vector<std::pair<std::string, std::string>>{{"10.1.2.3", "10.1.2.3"},
                                                        {"example.com", "example.com"},
                                                        {"[2001:db8::1]", "[2001:db8::1]"},
                                                        {"0.0.0.0", "0.0.0.0"}}) {
    for (const auto& c : address_cases(host, url_host)) {
      const auto result = load_experiment_text(c.yaml, "l.yaml");
      EXPECT_FALSE(result.ok()) << c.field << " " << host;
      ASSERT_EQ(result.errors.size(), 1u) << c.field << " " << host << "\n" << all_errors(result);
      EXPECT_NE(result.errors[0].message.find("is not on the allow-list; allowed are loopback (127.0.0.0/8, ::1, "
                                              "localhost); to allow more, add the address or network to `allow:`"),
                std::string::npos)
          << result.errors[0].message;
    }
  }
}

TEST(LoopbackRule, AcceptsLoopbackHostsInEveryAddressField) {
  for (const auto& [host, url_host] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1", "127.0.0.1"}, {"127.9.8.7", "127.9.8.7"}, {"localhost", "LOCALHOST"}, {"[::1]", "[::1]"}}) {
    for (const auto& c : address_cases(host, url_host)) {
      const auto result = load_experiment_text(c.yaml, "l.yaml");
      EXPECT_TRUE(result.ok()) << c.field << " " << host << "\n" << all_errors(result);
    }
  }
}

TEST(LoopbackRule, AcceptsHostsTheAllowListNamesAndStillRefusesNames) {
  allowed_hosts().clear();
  ASSERT_TRUE(allowed_hosts().add("10.1.2.0/24", "test"));
  ASSERT_TRUE(allowed_hosts().add("2001:db8::/32", "test"));
  for (const auto& [host, url_host] : std::vector<std::pair<std::string, std::string>>{
           {"10.1.2.3", "10.1.2.3"}, {"[2001:db8::1]", "[2001:db8::1]"}}) {
    for (const auto& c : address_cases(host, url_host)) {
      const auto result = load_experiment_text(c.yaml, "l.yaml");
      EXPECT_TRUE(result.ok()) << c.field << " " << host << "\n" << all_errors(result);
    }
  }
  for (const auto& c : address_cases("10.1.3.1", "example.com")) {
    EXPECT_FALSE(load_experiment_text(c.yaml, "l.yaml").ok()) << c.field;
  }
  allowed_hosts().clear();
}

// ---- interpolation through the loader ---------------------------------------------------------

class WithEnvironment : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("CHAOSPLUS_SPEC_TEST_PORT", "18123", 1);
    ::setenv("CHAOSPLUS_SPEC_TEST_PID", "777", 1);
    ::unsetenv("CHAOSPLUS_SPEC_TEST_UNSET");
  }
  void TearDown() override {
    ::unsetenv("CHAOSPLUS_SPEC_TEST_PORT");
    ::unsetenv("CHAOSPLUS_SPEC_TEST_PID");
  }
};

TEST_F(WithEnvironment, ReplacesVariablesBeforeValidation) {
  const auto result = load_experiment_text(R"(name: env
targets:
  api:
    endpoint: "127.0.0.1:${CHAOSPLUS_SPEC_TEST_PORT}"
  worker:
    attach:
      pid: ${CHAOSPLUS_SPEC_TEST_PID}
steady_state:
  probes:
    - name: up
      http: { url: "http://127.0.0.1:${CHAOSPLUS_SPEC_TEST_PORT}/health" }
phases:
  - name: a
    duration: ${CHAOSPLUS_SPEC_TEST_UNSET:-45s}
)",
                                           "env.yaml");
  const Experiment& e = loaded(result);
  EXPECT_EQ(e.find_target("api")->endpoint->port, 18123);
  EXPECT_EQ(e.find_target("worker")->attach->pid, 777) << "an unquoted interpolated number is a number";
  EXPECT_EQ(std::get<HttpProbe>(e.find_probe("up")->kind).url, "http://127.0.0.1:18123/health");
  EXPECT_EQ(e.phases[0].duration, 45s);
}

TEST_F(WithEnvironment, ReportsAnUndefinedVariableAtItsPosition) {
  const auto result = load_experiment_text(
      "name: env\nphases:\n  - name: a\n    duration: 1${CHAOSPLUS_SPEC_TEST_UNSET}\n", "env.yaml");
  ASSERT_EQ(result.errors.size(), 1u) << all_errors(result);
  EXPECT_EQ(result.errors[0].line, 4);
  EXPECT_EQ(result.errors[0].column, 16);
  EXPECT_NE(result.errors[0].message.find("environment variable 'CHAOSPLUS_SPEC_TEST_UNSET' is not set"),
            std::string::npos);
}

TEST_F(WithEnvironment, LeavesKeysAndEscapedReferencesAlone) {
  const auto result = load_experiment_text(R"(name: env
targets:
  api:
    process:
      command: [sh, -c, "echo $${HOME}"]
      env: { X: "${CHAOSPLUS_SPEC_TEST_PORT}" }
phases: [{name: a, duration: 1s}]
)",
                                           "env.yaml");
  const Experiment& e = loaded(result);
  EXPECT_EQ(e.targets[0].process->command[2], "echo ${HOME}");
  EXPECT_EQ(e.targets[0].process->env.at("X"), "18123");
}

TEST(LoadAttach, ReadsEveryWayToFindAProcess) {
  const auto result = load_experiment_file(data("valid/attach-pid-sources.yaml"));
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors.front().to_string());
  const auto& t = result.experiment->targets;
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].attach->pidfile, "/var/lib/postgresql/15/main/postmaster.pid");
  EXPECT_EQ(t[1].attach->pid_command, (std::vector<std::string>{"pgrep", "-o", "redis-server"}));
  EXPECT_EQ(t[1].attach->restart_command, (std::vector<std::string>{"redis-server", "--port", "16379"}));
  EXPECT_EQ(t[2].attach->pid_url, "http://127.0.0.1:8008/patroni");
  EXPECT_EQ(t[2].attach->pid_field, "pid");
  EXPECT_EQ(t[3].attach->pid_url, "http://127.0.0.1:8009/pid");
  EXPECT_EQ(t[3].attach->pid_field, "");
}

TEST(LoadVariables, GivenValuesWinOverTheEnvironment) {
  ::setenv("CHAOSPLUS_TEST_VAR_PORT", "1", 1);
  const std::string yaml =
      "name: v\ntargets:\n  api: { endpoint: \"127.0.0.1:${CHAOSPLUS_TEST_VAR_PORT}\" }\n"
      "phases:\n  - name: a\n    duration: ${CHAOSPLUS_TEST_VAR_LENGTH:-2s}\n";
  const auto from_env = load_experiment_text(yaml, "v.yaml");
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env.experiment->targets[0].endpoint->port, 1);
  const auto given =
      load_experiment_text(yaml, "v.yaml", {{"CHAOSPLUS_TEST_VAR_PORT", "8080"}, {"CHAOSPLUS_TEST_VAR_LENGTH", "3s"}});
  ::unsetenv("CHAOSPLUS_TEST_VAR_PORT");
  ASSERT_TRUE(given.ok()) << given.errors.front().to_string();
  EXPECT_EQ(given.experiment->targets[0].endpoint->port, 8080);
  EXPECT_EQ(given.experiment->phases[0].duration, 3s);
}

// A guardrail may name the stream metric it judges; it is then the same guardrail as the probe:/load:
// form, and the stream name comes back from either.
TEST(Guardrails, AStreamMetricNameLoadsAsTheProbeOrLoadForm) {
  constexpr std::string_view kBoth = R"(name: metrics
steady_state:
  probes:
    - name: checkout
      http: { url: "http://127.0.0.1:9/health" }
      every: 1s
guardrails:
  - when: { metric: probe.checkout.success_rate, is: "< 80%", over: 10s }
  - when: { probe: checkout, success_rate: "< 80%", over: 10s }
  - when: { metric: load.shoppers.latency_p99, is: "> 200ms" }
phases:
  - name: only
    duration: 5s
    load: { name: shoppers, url: "http://127.0.0.1:9/", connections: 1 }
)";
  const LoadResult result = load_experiment_text(kBoth, "metrics.yaml");
  const Experiment& e = loaded(result);
  ASSERT_EQ(e.guardrails.size(), 3u);
  EXPECT_EQ(e.guardrails[0].probe, "checkout");
  EXPECT_EQ(e.guardrails[0].metric, GuardrailMetric::success_rate);
  EXPECT_EQ(e.guardrails[0].condition.op, e.guardrails[1].condition.op);
  EXPECT_DOUBLE_EQ(e.guardrails[0].condition.value, e.guardrails[1].condition.value);
  EXPECT_EQ(e.guardrails[0].name, e.guardrails[1].name);
  EXPECT_EQ(e.guardrails[2].load, "shoppers");
  EXPECT_EQ(e.guardrails[2].metric, GuardrailMetric::latency_p99);
  EXPECT_DOUBLE_EQ(e.guardrails[2].condition.value, 0.2);

  const std::string bad = std::string(kBoth).replace(std::string(kBoth).find("load.shoppers.latency_p99"), 25,
                                                     "load.shoppers.success_rate");
  EXPECT_TRUE(has_error(load_experiment_text(bad, "bad.yaml"), "expected a stream metric"));
  const std::string unknown =
      std::string(kBoth).replace(std::string(kBoth).find("load.shoppers.latency_p99"), 25, "load.buyers.latency_p99");
  EXPECT_TRUE(has_error(load_experiment_text(unknown, "unknown.yaml"), "watches load 'buyers'"));
}

}  // namespace
}  // namespace chaosplus::spec