#include "spec/fault_catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "spec/schema.h"

namespace chaosplus::spec {
namespace {

using namespace std::chrono_literals;

TEST(FaultCatalog, ListsEveryFaultTypeInDocumentationOrder) {
  std::vector<std::string> names;
  for (const auto& type : fault_catalog()) names.emplace_back(type.name);
  EXPECT_EQ(
      names,
      (std::vector<std::string>{
          "kill",       "pause",          "restart",    "latency",     "reset",           "blackhole",  "timeout",
          "bandwidth",  "slow_close",     "slicer",     "limit_data",  "http_error",      "http_delay", "http_abort",
          "partition",  "blackhole_port", "reject",     "packet_loss", "bandwidth_limit", "limit",      "extension",
          "crash_node", "isolate",        "switchover", "failover",    "corrupt",         "cpu",        "memory",
          "io_stress",  "disk_fill",      "revoke",     "credential",  "io_error",        "io_latency", "lock_account",
          "dns",        "clock"}));
}

TEST(FaultCatalog, NormalizesHttpFaultSettings) {
  const FaultType* error = find_fault_type("http_error");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(*normalize_fault_param(*find_fault_param(*error, "share"), "10%"), "0.1");
  EXPECT_EQ(*normalize_fault_param(*find_fault_param(*error, "status"), "503"), "503");
  EXPECT_FALSE(normalize_fault_param(*find_fault_param(*error, "status"), "99").ok());
  EXPECT_FALSE(normalize_fault_param(*find_fault_param(*error, "share"), "0.1").ok());
  const FaultType* abort = find_fault_type("http_abort");
  EXPECT_EQ(*normalize_fault_param(*find_fault_param(*abort, "bytes"), "1KiB"), "1024");
}

TEST(FaultCatalog, FindsTypesAndParamsByName) {
  const FaultType* latency = find_fault_type("latency");
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->needs, Capability::proxy);
  const FaultParam* jitter = find_fault_param(*latency, "jitter");
  ASSERT_NE(jitter, nullptr);
  EXPECT_EQ(jitter->kind, ParamKind::duration);
  EXPECT_EQ(jitter->default_value, "0ms");
  EXPECT_FALSE(jitter->required);
  EXPECT_TRUE(find_fault_param(*latency, "latency")->required);
  EXPECT_EQ(find_fault_param(*latency, "signal"), nullptr);
  EXPECT_EQ(find_fault_type("explode"), nullptr);
  EXPECT_EQ(find_fault_type("kill")->needs, Capability::signal_process);
  EXPECT_EQ(find_fault_type("restart")->needs, Capability::restart_process);
}

TEST(FaultCatalog, DefaultsAreValidValuesOfTheirKind) {
  for (const auto& type : fault_catalog()) {
    for (const auto& param : type.params) {
      if (param.required) {
        EXPECT_TRUE(param.default_value.empty()) << type.name << "." << param.name;
        continue;
      }
      if (param.default_value.empty()) continue;  // "not given": the fault works the value out
      // Defaults are written as users write values, and the loader normalizes them like any value.
      auto normalized = normalize_fault_param(param, param.default_value);
      ASSERT_TRUE(normalized.ok()) << type.name << "." << param.name << ": " << normalized.error();
      if (param.kind != ParamKind::share) {
        EXPECT_EQ(*normalized, param.default_value) << type.name << "." << param.name;
      }
    }
  }
}

// The schema and the catalog describe the same faults: the same types, keys, and required keys.
TEST(FaultCatalog, MatchesTheSchema) {
  const auto schema = nlohmann::json::parse(experiment_schema_text());
  const auto& faults = schema["definitions"]["fault"]["properties"];
  std::set<std::string> schema_types;
  for (const auto& [name, _] : faults.items()) schema_types.insert(name);
  std::set<std::string> catalog_types;
  for (const auto& type : fault_catalog()) catalog_types.emplace(type.name);
  EXPECT_EQ(schema_types, catalog_types);

  for (const auto& type : fault_catalog()) {
    if (!type.schema.empty()) continue;  // its own schema (an extension's fault: docs/extensions.md)
    const auto& definition = faults[std::string(type.name)];
    std::set<std::string> keys;
    for (const auto& [key, _] : definition["properties"].items()) keys.insert(key);
    std::set<std::string> expected{"target", "at", "for"};
    std::set<std::string> required{"target"};
    for (const auto& param : type.params) {
      expected.emplace(param.name);
      if (param.required) required.emplace(param.name);
    }
    EXPECT_EQ(keys, expected) << type.name;
    EXPECT_EQ(definition["required"].get<std::set<std::string>>(), required) << type.name;
    EXPECT_EQ(definition["additionalProperties"], false) << type.name;
    for (const auto& param : type.params) {
      if (param.kind != ParamKind::choice) continue;
      std::set<std::string> choices(param.choices.begin(), param.choices.end());
      EXPECT_EQ(definition["properties"][std::string(param.name)]["enum"].get<std::set<std::string>>(), choices);
    }
  }
}

// The kernel faults take exactly the parameters faults/nft_faults.cpp and tbf_fault.cpp read.
TEST(FaultCatalog, KernelFaultsTakeTheParametersTheFaultsLibraryReads) {
  auto names = [](std::string_view type) {
    std::vector<std::string> out;
    for (const auto& param : find_fault_type(type)->params) out.emplace_back(param.name);
    std::sort(out.begin(), out.end());
    return out;
  };
  const std::vector<std::string> packet{"address", "namespace", "port", "protocol"};
  EXPECT_EQ(names("blackhole_port"), packet);
  EXPECT_EQ(names("reject"), packet);
  EXPECT_EQ(names("partition"), (std::vector<std::string>{"address", "namespace", "peer", "port", "protocol"}));
  EXPECT_EQ(names("packet_loss"), (std::vector<std::string>{"address", "namespace", "port", "protocol", "share"}));
  EXPECT_EQ(names("bandwidth_limit"), (std::vector<std::string>{"burst", "interface", "namespace", "rate"}));
  EXPECT_TRUE(find_fault_param(*find_fault_type("packet_loss"), "share")->required);
  for (const char* required : {"namespace", "interface", "rate"}) {
    EXPECT_TRUE(find_fault_param(*find_fault_type("bandwidth_limit"), required)->required) << required;
  }
  EXPECT_EQ(find_fault_type("reject")->needs, Capability::endpoint);
  EXPECT_EQ(find_fault_type("bandwidth_limit")->needs, Capability::any);
  for (const auto& type : fault_catalog()) {
    if (!type.schema.empty()) continue;    // an extension's fault: its target only names who it is for
    if (type.name == "corrupt") continue;  // a data fault: its target names whose file it is
    if (type.name == "disk_fill" || type.name == "revoke" || type.name == "credential")
      continue;                            // file faults: the same
    if (type.name == "isolate") continue;  // nftables on a Patroni member's addresses, worked out from the cluster
    // Host resource faults: the target names whom the stress is for (or, scope: target, whose cgroup).
    if (type.name == "cpu" || type.name == "memory" || type.name == "io_stress") continue;
    if (type.name == "lock_account") continue;  // the host's account database: its target names whom it is for
    EXPECT_EQ(is_kernel_fault(type.name), type.needs == Capability::endpoint || type.needs == Capability::any)
        << type.name;
  }
}

// A boolean parameter is YAML's true or false, stored as "true" or "false".
TEST(FaultCatalog, BooleanParametersAreTrueOrFalse) {
  const FaultParam flag{"expire", ParamKind::boolean, "false", false, {}, "a flag"};
  EXPECT_EQ(*normalize_fault_param(flag, "true"), "true");
  EXPECT_EQ(*normalize_fault_param(flag, "False"), "false");
  auto wrong = normalize_fault_param(flag, "yes");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error(), "found 'yes', expected true or false");
  Fault fault;
  fault.type = "lock_account";
  fault.params = {{"user", "alice"}, {"expire", "true"}};
  auto params = FaultParams::read(*find_fault_type("lock_account"), fault);
  ASSERT_TRUE(params.ok()) << params.error();
  EXPECT_TRUE(params->flag("expire"));
  EXPECT_FALSE(params->flag("end_sessions")) << "its default";
}

// The parameters as typed values, from the loader's normalized strings, defaults filled in.
TEST(FaultParams, ReadsEachParameterOnceAsItsKind) {
  Fault fault;
  fault.type = "latency";
  fault.params = {{"latency", "250ms"}, {"share", "0.3"}};
  auto params = FaultParams::read(*find_fault_type("latency"), fault);
  ASSERT_TRUE(params.ok()) << params.error();
  EXPECT_EQ(params->duration("latency"), 250ms);
  EXPECT_EQ(params->duration("jitter"), 0ms) << "the default";
  EXPECT_DOUBLE_EQ(params->share("share"), 0.3);
  EXPECT_EQ(params->text("direction"), "downstream");
  EXPECT_TRUE(params->given("latency"));
  EXPECT_FALSE(params->given("signal")) << "not a parameter of latency";

  Fault error;
  error.type = "http_error";
  auto http = FaultParams::read(*find_fault_type("http_error"), error);
  ASSERT_TRUE(http.ok()) << http.error();
  EXPECT_EQ(http->number("status"), 503);
  EXPECT_FALSE(http->given("method")) << "empty default: not given";

  Fault bad;
  bad.type = "latency";
  bad.params = {{"latency", "soon"}};
  EXPECT_FALSE(FaultParams::read(*find_fault_type("latency"), bad).ok());
}

TEST(NormalizeFaultParam, ReadsPortsOrAny) {
  const FaultParam& port = *find_fault_param(*find_fault_type("reject"), "port");
  EXPECT_EQ(*normalize_fault_param(port, "8080"), "8080");
  EXPECT_EQ(*normalize_fault_param(port, "any"), "any");
  EXPECT_EQ(*normalize_fault_param(port, "65535"), "65535");
  for (const char* bad : {"0", "65536", "-1", "80x", "", "Any", "http"}) {
    auto r = normalize_fault_param(port, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error(), "found '" + std::string(bad) + "', expected a port number from 1 to 65535, or any");
  }
}

TEST(NormalizeFaultParam, WritesAddressesAndNetworksCanonically) {
  const FaultParam& address = *find_fault_param(*find_fault_type("partition"), "address");
  const FaultParam& peer = *find_fault_param(*find_fault_type("partition"), "peer");
  EXPECT_EQ(*normalize_fault_param(address, "127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(*normalize_fault_param(address, "0:0::1"), "::1");
  EXPECT_FALSE(normalize_fault_param(address, "10.0.0.0/8").ok()) << "an address, not a network";
  EXPECT_FALSE(normalize_fault_param(address, "localhost").ok());
  EXPECT_NE(normalize_fault_param(address, "127.0.0.300").error().find("expected an IP address"), std::string::npos);
  EXPECT_EQ(*normalize_fault_param(peer, "10.0.0.7/24"), "10.0.0.0/24");
  EXPECT_EQ(*normalize_fault_param(peer, "10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(*normalize_fault_param(peer, "fd00::1/64"), "fd00::/64");
  EXPECT_FALSE(normalize_fault_param(peer, "10.0.0.0/33").ok());
}

TEST(NormalizeFaultParam, AcceptsOnlyProjectNamespacesAndInterfaceNames) {
  const FaultParam& netns = *find_fault_param(*find_fault_type("bandwidth_limit"), "namespace");
  const FaultParam& interface = *find_fault_param(*find_fault_type("bandwidth_limit"), "interface");
  EXPECT_EQ(*normalize_fault_param(netns, "chaosplus-lab"), "chaosplus-lab");
  for (const char* bad : {"lab", "chaosplus-", "chaosplus-a/b", "../chaosplus-x", "chaosplus-a b"}) {
    auto r = normalize_fault_param(netns, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().find("expected a network namespace chaosplus creates"), std::string::npos) << r.error();
  }
  EXPECT_EQ(*normalize_fault_param(interface, "veth0"), "veth0");
  for (const char* bad : {"", "eth0/1", "..", "a-name-longer-than-15", "eth 0"}) {
    EXPECT_FALSE(normalize_fault_param(interface, bad).ok()) << bad;
  }
}

TEST(NormalizeFaultParam, WritesDurationsExactly) {
  const FaultParam& latency = *find_fault_param(*find_fault_type("latency"), "latency");
  EXPECT_EQ(*normalize_fault_param(latency, "250ms"), "250ms");
  EXPECT_EQ(*normalize_fault_param(latency, "1.5s"), "1500ms");
  EXPECT_EQ(*normalize_fault_param(latency, "1m30s"), "90s");
  EXPECT_EQ(*normalize_fault_param(latency, "2m"), "2m");
  EXPECT_EQ(*normalize_fault_param(latency, "1234ms"), "1234ms");
  auto bad = normalize_fault_param(latency, "fast");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("is not a duration"), std::string::npos);
}

TEST(NormalizeFaultParam, WritesSignalsByName) {
  const FaultParam& signal = *find_fault_param(*find_fault_type("kill"), "signal");
  EXPECT_EQ(*normalize_fault_param(signal, "term"), "SIGTERM");
  EXPECT_EQ(*normalize_fault_param(signal, "9"), "SIGKILL");
  EXPECT_EQ(*normalize_fault_param(signal, "SIGINT"), "SIGINT");
  EXPECT_FALSE(normalize_fault_param(signal, "SIGNOPE").ok());
}

TEST(NormalizeFaultParam, AcceptsOnlyListedChoices) {
  const FaultParam& direction = *find_fault_param(*find_fault_type("latency"), "direction");
  EXPECT_EQ(*normalize_fault_param(direction, "upstream"), "upstream");
  auto bad = normalize_fault_param(direction, "Upstream");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("expected one of downstream, upstream"), std::string::npos);
}

TEST(NormalizeFaultParam, WritesByteRatesAsBytesPerSecondThatParseBytesReads) {
  const FaultParam& rate = *find_fault_param(*find_fault_type("bandwidth"), "rate");
  auto normalized = normalize_fault_param(rate, "64KB/s");
  ASSERT_TRUE(normalized.ok());
  EXPECT_EQ(*normalized, "64000");
  EXPECT_EQ(*parse_bytes(*normalized), 64000u);
  EXPECT_EQ(*normalize_fault_param(rate, "1MiB/s"), "1048576");
}

TEST(ParseByteRate, ReadsASizePerSecond) {
  EXPECT_EQ(*parse_byte_rate("500B/s"), 500u);
  EXPECT_EQ(*parse_byte_rate("64KiB/s"), 65536u);
  EXPECT_EQ(*parse_byte_rate("2000/s"), 2000u);
  EXPECT_EQ(*parse_byte_rate(" 1 MB /s "), 1000000u);
}

TEST(ParseByteRate, RejectsMissingTimeUnitOtherUnitsAndZero) {
  for (const char* bad : {"64KB", "64KB/m", "/s", "KB/s", "fast/s", "-1KB/s", ""}) {
    auto r = parse_byte_rate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().find("expected a size per second"), std::string::npos) << r.error();
  }
  EXPECT_NE(parse_byte_rate("0B/s").error().find("at least 1B/s"), std::string::npos);
}

TEST(ExactDuration, RoundTripsThroughParseDuration) {
  for (Duration d : {Duration(0), Duration(1), Duration(1500), Duration(std::chrono::milliseconds(1234)),
                     Duration(std::chrono::seconds(90)), Duration(std::chrono::hours(2)),
                     Duration(std::chrono::microseconds(250))}) {
    auto parsed = parse_duration(exact_duration(d));
    ASSERT_TRUE(parsed.ok()) << exact_duration(d);
    EXPECT_EQ(*parsed, d) << exact_duration(d);
  }
  EXPECT_EQ(exact_duration(std::chrono::milliseconds(1500)), "1500ms");
  EXPECT_EQ(exact_duration(std::chrono::minutes(2)), "2m");
}

TEST(TargetHas, TellsWhichFaultsATargetSupports) {
  Target process;
  process.process = ProcessLaunch{{"x"}, {}, {}, std::nullopt, {}};
  Target attached;
  attached.attach = ProcessAttach{};
  attached.attach->pid = 42;
  Target restartable = attached;
  restartable.attach->restart_command = {"x"};
  Target proxied;
  proxied.endpoint = Endpoint{"127.0.0.1", 80};
  proxied.proxy = ProxyPlacement{{"127.0.0.1", 81}, {"127.0.0.1", 80}};

  EXPECT_TRUE(target_has(process, Capability::signal_process));
  EXPECT_TRUE(target_has(process, Capability::restart_process));
  EXPECT_FALSE(target_has(process, Capability::proxy));
  EXPECT_TRUE(target_has(attached, Capability::signal_process));
  EXPECT_FALSE(target_has(attached, Capability::restart_process));
  EXPECT_TRUE(target_has(restartable, Capability::restart_process));
  EXPECT_FALSE(target_has(proxied, Capability::signal_process));
  EXPECT_TRUE(target_has(proxied, Capability::proxy));
  EXPECT_TRUE(target_has(proxied, Capability::endpoint));
  EXPECT_FALSE(target_has(process, Capability::endpoint));
  EXPECT_TRUE(target_has(process, Capability::any));
}

}  // namespace
}  // namespace chaosplus::spec
