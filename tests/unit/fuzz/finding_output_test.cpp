#include "fuzz/finding_output.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "support/support.h"

namespace chaosplus::fuzz {
namespace {

using Json = nlohmann::json;

Finding full_finding() {
  Finding f;
  f.engine = "fuzz";
  f.oracle = "server_error";
  f.operation = "createOrder";
  f.signature = "500 + ZeroDivision at shop.cpp";
  f.severity = Severity::high;
  f.title = "POST /orders answers 500 to quantity=0";
  f.evidence = "500, body: \"ZeroDivisionError at shop.cpp:88\"";
  f.wfc = "100";
  f.trigger = {"status_5xx", ""};
  f.request.operation_id = "createOrder";
  f.request.method = "POST";
  f.request.path = "/orders";
  f.request.query = {{"dry_run", Json(true)}};
  f.request.headers = {{"X-Trace", "1"}};
  f.request.body = Json{{"sku", "A-1"}, {"quantity", 0}};
  f.request.body_content_type = "application/json";
  f.request.expect_valid = false;
  f.request.mutation = "body.quantity: 0 at the boundary";
  f.raw_request =
      "POST /orders?dry_run=true HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Trace: 1\r\nContent-Type: "
      "application/json\r\nContent-Length: 28\r\n\r\n{\"quantity\":0,\"sku\":\"A-1\"}";
  f.curl = "curl -X POST 'http://127.0.0.1:8080/orders?dry_run=true' -H 'X-Trace: 1' --data-binary '{}'";
  f.original_bytes = 512;
  f.setup_requests = {"POST /login HTTP/1.1\r\nHost: x\r\n\r\n", std::string("GET /\xff\xfe HTTP/1.1\r\n\r\n")};
  f.base_url = "http://127.0.0.1:8080";
  f.phase = "degraded";
  f.active_faults = {"latency 300ms on token", "http_error 503 on token"};
  f.without_faults = false;
  f.count = 17;
  f.first_seen_ms = 1234;
  return f;
}

void expect_same(const Finding& a, const Finding& b) {
  EXPECT_EQ(a.id(), b.id());
  EXPECT_EQ(a.engine, b.engine);
  EXPECT_EQ(a.oracle, b.oracle);
  EXPECT_EQ(a.operation, b.operation);
  EXPECT_EQ(a.signature, b.signature);
  EXPECT_EQ(a.severity, b.severity);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.evidence, b.evidence);
  EXPECT_EQ(a.wfc, b.wfc);
  EXPECT_EQ(a.trigger.rule, b.trigger.rule);
  EXPECT_EQ(a.trigger.value, b.trigger.value);
  EXPECT_EQ(to_json(a.request), to_json(b.request));
  EXPECT_EQ(a.raw_request, b.raw_request);
  EXPECT_EQ(a.curl, b.curl);
  EXPECT_EQ(a.original_bytes, b.original_bytes);
  EXPECT_EQ(a.setup_requests, b.setup_requests);
  EXPECT_EQ(a.base_url, b.base_url);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.active_faults, b.active_faults);
  EXPECT_EQ(a.without_faults, b.without_faults);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.first_seen_ms, b.first_seen_ms);
}

FindingsFile sample_file() {
  FindingsFile file;
  file.tool.version = "0.1.0";
  file.base_url = "http://127.0.0.1:8080";
  file.openapi = "demo/shop/openapi.yaml";
  file.seed = 18446744073709551615ULL;
  file.started_at = "2026-12-06T07:00:00.000Z";
  file.findings.push_back(full_finding());
  Finding timeout;
  timeout.engine = "security";
  timeout.oracle = "sql_injection";
  timeout.operation = "searchProducts";
  timeout.signature = "time differential";
  timeout.severity = Severity::critical;
  timeout.trigger = {"latency_over", "2500"};
  timeout.raw_request = std::string("GET /search?q=%27 HTTP/1.1\r\n\r\n\x80\x00\x01", 34);
  file.findings.push_back(timeout);
  return file;
}

TEST(FindingsFile, RoundTripsEveryFieldThroughTheFile) {
  testing::TempDir dir;
  const std::string path = dir.file("findings.json");
  const FindingsFile written = sample_file();
  ASSERT_TRUE(write_findings_file(path, written).ok());

  const Json json = Json::parse(testing::read_file(path));
  EXPECT_EQ(json["chaosplus_findings"], 1);
  EXPECT_EQ(json["tool"]["name"], "chaosplus");
  EXPECT_EQ(json["openapi"], "demo/shop/openapi.yaml");
  EXPECT_EQ(json["findings"][0]["id"], written.findings[0].id());
  EXPECT_EQ(json["findings"][0]["severity"], "high");
  EXPECT_EQ(json["findings"][0]["raw_request"], written.findings[0].raw_request) << "UTF-8 bytes stay text";
  EXPECT_TRUE(json["findings"][0]["setup_requests"][1].contains("base64")) << "other bytes go as base64";
  EXPECT_TRUE(json["findings"][1]["without_faults"].is_null());

  auto read = read_findings_file(path);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(read->tool.version, "0.1.0");
  EXPECT_EQ(read->base_url, written.base_url);
  EXPECT_EQ(read->openapi, written.openapi);
  EXPECT_EQ(read->seed, written.seed);
  EXPECT_EQ(read->started_at, written.started_at);
  ASSERT_EQ(read->findings.size(), 2u);
  expect_same(read->findings[0], written.findings[0]);
  expect_same(read->findings[1], written.findings[1]);
  EXPECT_EQ(read->findings[1].raw_request.size(), 34u);
}

TEST(FindingsFile, IsReadableByItsOwnerOnly) {
  testing::TempDir dir;
  ASSERT_TRUE(write_findings_file(dir.file("f.json"), sample_file()).ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("f.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

std::vector<std::string> names_in(const std::string& folder) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) names.push_back(entry.path().filename());
  return names;
}

// The file size limit makes the write itself fail half-way, as a full disk would.
TEST(FindingsFile, AFailedWriteLeavesTheOldFileAndNoPartialOne) {
  testing::TempDir dir;
  const std::string path = dir.file("findings.json");
  testing::write_file(path, "the old findings\n");

  struct sigaction ignore {
  }, old_action{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 100;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const Status status = write_findings_file(path, sample_file());
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &old_action, nullptr);

  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find(path + ": cannot write (write: "), std::string::npos) << status.error();
  EXPECT_EQ(testing::read_file(path), "the old findings\n");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"findings.json"}) << "no temporary file is left";
}

TEST(FindingsFile, AWriteIntoAMissingFolderSaysWhere) {
  testing::TempDir dir;
  const Status status = write_findings_file(dir.file("no/such/f.json"), sample_file());
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find(dir.file("no/such/f.json") + ": cannot write"), std::string::npos) << status.error();
}

std::string read_error(const std::string& content) {
  testing::TempDir dir;
  testing::write_file(dir.file("f.json"), content);
  auto read = read_findings_file(dir.file("f.json"));
  if (read.ok()) return "(read)";
  const std::string prefix = dir.file("f.json") + ": ";
  EXPECT_EQ(read.error().rfind(prefix, 0), 0u) << read.error();
  return read.error().substr(prefix.size());
}

TEST(FindingsFile, ReadErrorsNameTheFileAndWhatIsWrong) {
  testing::TempDir dir;
  auto missing = read_findings_file(dir.file("missing.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), dir.file("missing.json") + ": cannot read (No such file or directory)");

  EXPECT_EQ(read_error("{").rfind("not JSON", 0), 0u);
  EXPECT_EQ(read_error("[]"), "expected an object, got array");
  EXPECT_EQ(read_error(R"({"findings": []})"), "chaosplus_findings: missing");
  EXPECT_EQ(read_error(R"({"chaosplus_findings": 2, "findings": []})"),
            "chaosplus_findings: this chaosplus reads version 1 of the findings file, this one is 2");

  Json json = to_json(sample_file());
  json["findings"][1]["severity"] = "urgent";
  EXPECT_EQ(read_error(json.dump()),
            "findings[1].severity: 'urgent': expected a severity: info, low, medium, high or critical");
  json = to_json(sample_file());
  json["findings"][0]["trigger"].erase("rule");
  EXPECT_EQ(read_error(json.dump()), "findings[0].trigger.rule: missing");
  json["findings"][0]["trigger"]["rule"] = "status_is_bad";
  EXPECT_EQ(read_error(json.dump()), "(read)") << "a trigger is judged when it is used, not when it is read";
  json = to_json(sample_file());
  json["findings"][0].erase("raw_request");
  EXPECT_EQ(read_error(json.dump()), "findings[0].raw_request: missing");
  json = to_json(sample_file());
  json["findings"][0]["count"] = -1;
  EXPECT_EQ(read_error(json.dump()), "findings[0].count: expected a whole number not below 0, got -1");
  json = to_json(sample_file());
  json["findings"][0]["setup_requests"][0] = Json{{"base64", "*"}};
  EXPECT_EQ(read_error(json.dump()), "findings[0].setup_requests[0]: base64: not valid base64");
  json = to_json(sample_file());
  json["findings"][0]["signature"] = "edited";
  EXPECT_EQ(read_error(json.dump()).rfind("findings[0].id: " + full_finding().id() + " does not match", 0), 0u);
}

// What SARIF 2.1.0 requires of the parts chaosplus writes (sarif-schema-2.1.0.json: sarifLog,
// run, tool, toolComponent, reportingDescriptor, result, message, location, physicalLocation,
// artifactLocation, region, logicalLocation), written here by hand from the standard's text.
const char* kSarifSubset = R"({
  "type": "object",
  "required": ["version", "runs"],
  "properties": {
    "version": {"enum": ["2.1.0"]},
    "$schema": {"type": "string", "format": "uri"},
    "runs": {"type": "array", "items": {"$ref": "#/definitions/run"}}
  },
  "definitions": {
    "message": {"type": "object", "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
                "properties": {"text": {"type": "string"}}},
    "multiformatMessageString": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
    "run": {
      "type": "object", "required": ["tool"],
      "properties": {
        "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {"$ref": "#/definitions/toolComponent"}}},
        "results": {"type": "array", "items": {"$ref": "#/definitions/result"}}
      }
    },
    "toolComponent": {
      "type": "object", "required": ["name"],
      "properties": {
        "name": {"type": "string"}, "version": {"type": "string"}, "informationUri": {"type": "string"},
        "rules": {"type": "array", "uniqueItems": true, "items": {"$ref": "#/definitions/reportingDescriptor"}}
      }
    },
    "reportingDescriptor": {
      "type": "object", "required": ["id"],
      "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "shortDescription": {"$ref": "#/definitions/multiformatMessageString"},
        "fullDescription": {"$ref": "#/definitions/multiformatMessageString"},
        "help": {"$ref": "#/definitions/multiformatMessageString"},
        "defaultConfiguration": {"type": "object", "properties": {
          "level": {"enum": ["none", "note", "warning", "error"]}}},
        "properties": {"type": "object", "properties": {
          "tags": {"type": "array", "uniqueItems": true, "items": {"type": "string"}}}}
      }
    },
    "result": {
      "type": "object", "required": ["message"],
      "properties": {
        "ruleId": {"type": "string"}, "ruleIndex": {"type": "integer", "minimum": -1},
        "level": {"enum": ["none", "note", "warning", "error"]},
        "message": {"$ref": "#/definitions/message"},
        "locations": {"type": "array", "items": {"$ref": "#/definitions/location"}},
        "partialFingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
        "properties": {"type": "object"}
      }
    },
    "location": {
      "type": "object",
      "properties": {
        "physicalLocation": {"$ref": "#/definitions/physicalLocation"},
        "logicalLocations": {"type": "array", "items": {"$ref": "#/definitions/logicalLocation"}}
      }
    },
    "physicalLocation": {
      "type": "object", "anyOf": [{"required": ["address"]}, {"required": ["artifactLocation"]}],
      "properties": {
        "artifactLocation": {"type": "object", "properties": {"uri": {"type": "string"}}},
        "region": {"type": "object", "properties": {
          "startLine": {"type": "integer", "minimum": 1}, "startColumn": {"type": "integer", "minimum": 1}}}
      }
    },
    "logicalLocation": {"type": "object", "properties": {"name": {"type": "string"}, "kind": {"type": "string"}}}
  }
})";

std::vector<std::string> sarif_errors(const Json& sarif) {
  const Json schema_json = Json::parse(kSarifSubset);
  valijson::Schema schema;
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_json);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::adapters::NlohmannJsonAdapter target(sarif);
  valijson::ValidationResults results;
  std::vector<std::string> errors;
  if (!validator.validate(schema, target, &results)) {
    valijson::ValidationResults::Error error;
    while (results.popError(error)) {
      std::string where;
      for (const auto& part : error.context) where += part;
      errors.push_back(where + ": " + error.description);
    }
  }
  return errors;
}

TEST(Sarif, TheSchemaSubsetCatchesAMissingRequiredProperty) {
  EXPECT_FALSE(sarif_errors(Json{{"version", "2.1.0"}, {"runs", Json::array({Json::object()})}}).empty());
  EXPECT_FALSE(
      sarif_errors(Json{{"version", "2.1.0"},
                        {"runs", {{{"tool", {{"driver", {{"name", "x"}}}}}, {"results", {{{"level", "error"}}}}}}}})
          .empty());
}

std::vector<Finding> sarif_findings() {
  std::vector<Finding> findings;
  findings.push_back(full_finding());  // fuzz, high
  Finding low = full_finding();
  low.signature = "another";
  low.severity = Severity::low;
  findings.push_back(low);  // same rule, lower
  Finding fail_open;
  fail_open.engine = "security";
  fail_open.oracle = "fail_open";
  fail_open.operation = "getOrder";
  fail_open.severity = Severity::critical;
  fail_open.title = "GET /orders/{id} answers 200 without a token while the token service is down";
  fail_open.trigger = {"status_class", "2xx"};
  fail_open.active_faults = {"kill token"};
  fail_open.without_faults = false;
  findings.push_back(fail_open);
  Finding headers;
  headers.engine = "security";
  headers.oracle = "security_headers";
  headers.severity = Severity::medium;
  headers.title = "responses lack X-Content-Type-Options";
  headers.trigger = {"header_missing", "X-Content-Type-Options"};
  headers.base_url = "http://127.0.0.1:8080";
  findings.push_back(headers);
  Finding info;
  info.engine = "fuzz";
  info.oracle = "a_new_oracle";
  info.operation = "listOrders";
  info.severity = Severity::info;
  info.trigger = {"status_5xx", ""};
  findings.push_back(info);
  return findings;
}

TEST(Sarif, HasTheRequiredPropertiesOneRulePerOracleAndOneResultPerFinding) {
  ToolInfo tool;
  tool.version = "0.1.0";
  tool.information_uri = "https://example.invalid/chaosplus";
  const auto findings = sarif_findings();
  const Json sarif = to_sarif(findings, tool);
  EXPECT_EQ(sarif_errors(sarif), std::vector<std::string>{});
  EXPECT_EQ(sarif["version"], "2.1.0");
  ASSERT_EQ(sarif["runs"].size(), 1u);
  const Json& driver = sarif["runs"][0]["tool"]["driver"];
  EXPECT_EQ(driver["name"], "chaosplus");
  EXPECT_EQ(driver["version"], "0.1.0");
  EXPECT_EQ(driver["informationUri"], "https://example.invalid/chaosplus");
  const Json& rules = driver["rules"];
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules[0]["id"], "fuzz/server_error");
  EXPECT_EQ(rules[0]["defaultConfiguration"]["level"], "error") << "the most severe of its findings";
  EXPECT_EQ(rules[0]["properties"]["tags"], Json::array({"reliability", "fuzz"}));
  EXPECT_FALSE(rules[0]["properties"].contains("security-severity"));
  EXPECT_EQ(rules[1]["id"], "security/fail_open");
  EXPECT_EQ(rules[1]["properties"]["tags"], Json::array({"security", "external/cwe/cwe-636"}));
  EXPECT_EQ(rules[1]["properties"]["security-severity"], "9.5");
  EXPECT_EQ(rules[2]["properties"]["security-severity"], "5.5");
  EXPECT_EQ(rules[3]["id"], "fuzz/a_new_oracle");
  EXPECT_EQ(rules[3]["shortDescription"]["text"], "Findings of the a_new_oracle oracle");
  for (const Json& rule : rules) EXPECT_FALSE(rule["help"]["text"].get<std::string>().empty());

  const Json& results = sarif["runs"][0]["results"];
  ASSERT_EQ(results.size(), findings.size());
  const std::vector<std::string> levels{"error", "note", "error", "warning", "note"};
  for (std::size_t i = 0; i < findings.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(results[i]["level"], levels[i]);
    EXPECT_EQ(results[i]["partialFingerprints"]["chaosplusFindingId/v1"], findings[i].id());
    EXPECT_EQ(results[i]["ruleId"], rules[results[i]["ruleIndex"].get<std::size_t>()]["id"]);
    EXPECT_EQ(results[i]["properties"]["oracle"], findings[i].oracle);
    EXPECT_EQ(results[i]["properties"]["operation"], findings[i].operation);
  }
  EXPECT_EQ(results[2]["properties"]["active_faults"], Json::array({"kill token"}));
  EXPECT_EQ(results[2]["properties"]["without_faults"], false);
  EXPECT_EQ(results[0]["properties"]["count"], 17);
  EXPECT_EQ(results[0]["properties"]["phase"], "degraded");
  EXPECT_EQ(results[0]["properties"]["curl"], findings[0].curl);
  const std::string message = results[2]["message"]["text"];
  EXPECT_NE(message.find("kill token (only with faults)"), std::string::npos) << message;
  EXPECT_NE(message.find("chaosplus replay FINDINGS.json --id " + findings[2].id()), std::string::npos) << message;
  // Without the document: a logical location names the operation, or the target for target-wide findings.
  EXPECT_EQ(results[2]["locations"][0]["logicalLocations"][0]["name"], "getOrder");
  EXPECT_FALSE(results[2]["locations"][0].contains("physicalLocation"));
  EXPECT_EQ(results[3]["locations"][0]["logicalLocations"][0]["name"], "http://127.0.0.1:8080");
}

TEST(Sarif, PointsAtTheOperationInTheOpenApiDocument) {
  openapi::Document document;
  document.file = "demo/shop openapi.yaml";
  openapi::Operation get_order;
  get_order.id = "getOrder";
  get_order.method = "GET";
  get_order.path = "/orders/{id}";
  get_order.where = {"demo/shop openapi.yaml", "/paths/~1orders~1{id}/get", 42, 5};
  document.operations.push_back(get_order);
  const auto findings = sarif_findings();
  const Json sarif = to_sarif(findings, ToolInfo{});
  const Json located = to_sarif(findings, ToolInfo{}, &document);
  EXPECT_EQ(sarif_errors(located), std::vector<std::string>{});
  const Json& results = located["runs"][0]["results"];
  const Json& physical = results[2]["locations"][0]["physicalLocation"];
  EXPECT_EQ(physical["artifactLocation"]["uri"], "demo/shop%20openapi.yaml");
  EXPECT_EQ(physical["region"]["startLine"], 42);
  EXPECT_EQ(physical["region"]["startColumn"], 5);
  EXPECT_EQ(results[2]["locations"][0]["logicalLocations"][0]["name"], "getOrder");
  // An operation the document does not locate, or none: the file without a region.
  EXPECT_FALSE(results[0]["locations"][0]["physicalLocation"].contains("region"));
  EXPECT_EQ(results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "demo/shop%20openapi.yaml");
  EXPECT_FALSE(located["runs"][0]["tool"]["driver"].contains("version"));
}

TEST(Sarif, AnAbsolutePathOutsideTheWorkingFolderIsAFileUri) {
  openapi::Document document;
  document.file = "/nonexistent-root/api.json";
  const Json sarif = to_sarif(sarif_findings(), ToolInfo{}, &document);
  EXPECT_EQ(sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "file:///nonexistent-root/api.json");
}

TEST(Sarif, WrittenAtomicallyAsValidJson) {
  testing::TempDir dir;
  auto findings = sarif_findings();
  findings[0].evidence = std::string("body: \xff\xfe");
  ASSERT_TRUE(write_sarif_file(dir.file("out.sarif"), findings, ToolInfo{}).ok());
  const Json sarif = Json::parse(testing::read_file(dir.file("out.sarif")));
  EXPECT_EQ(sarif["runs"][0]["results"].size(), findings.size());
}

const FieldValue* field(const Event& event, const std::string& key) { return event.find(key); }

TEST(FindingEvent, IsFuzzOrSecurityFindingWithTheFindingsFields) {
  const Finding f = full_finding();
  const Event event = finding_event(f);
  EXPECT_EQ(event.type, "fuzz.finding");
  EXPECT_EQ(event.text("id"), f.id());
  EXPECT_EQ(event.text("engine"), "fuzz");
  EXPECT_EQ(event.text("oracle"), "server_error");
  EXPECT_EQ(event.text("operation"), "createOrder");
  EXPECT_EQ(event.text("signature"), f.signature);
  EXPECT_EQ(event.text("severity"), "high");
  EXPECT_EQ(event.text("title"), f.title);
  EXPECT_EQ(event.text("evidence"), f.evidence);
  EXPECT_EQ(event.text("wfc"), "100");
  EXPECT_EQ(event.text("trigger"), "status_5xx");
  EXPECT_EQ(event.text("curl"), f.curl);
  EXPECT_EQ(event.text("raw_request"), f.raw_request);
  EXPECT_EQ(event.number("request_bytes"), static_cast<double>(f.raw_request.size()));
  EXPECT_EQ(event.number("original_bytes"), 512);
  EXPECT_EQ(event.number("setup_requests"), 2);
  EXPECT_EQ(event.text("base_url"), f.base_url);
  EXPECT_EQ(event.text("phase"), "degraded");
  EXPECT_EQ(Json::parse(event.text("active_faults")), Json(f.active_faults));
  ASSERT_NE(field(event, "without_faults"), nullptr);
  EXPECT_FALSE(event.flag("without_faults"));
  EXPECT_EQ(event.number("count"), 17);
  EXPECT_EQ(event.number("first_seen_ms"), 1234);
  EXPECT_TRUE(Json::accept(to_json_line(event)));
}

TEST(FindingEvent, ASecurityFindingWithBinaryBytesStaysValidJson) {
  Finding f = sample_file().findings[1];
  f.title = std::string("reflected \xff");
  const Event event = finding_event(f);
  EXPECT_EQ(event.type, "security.finding");
  EXPECT_EQ(event.find("raw_request"), nullptr);
  EXPECT_FALSE(event.text("raw_request_base64").empty());
  EXPECT_EQ(event.text("trigger"), "latency_over 2500");
  EXPECT_EQ(event.find("without_faults"), nullptr) << "not checked";
  const Json line = Json::parse(to_json_line(event));
  EXPECT_EQ(line["title"], "reflected \xef\xbf\xbd");
}

TEST(FindingEvent, CarriesTheHeadOfAHugeRequestAndSaysItIsCut) {
  Finding f = full_finding();
  f.raw_request = "GET / HTTP/1.1\r\nX: " + std::string(kEventRequestBytes, 'a');
  f.raw_request.replace(kEventRequestBytes - 1, 2, "\xc3\xa9");  // an é across the cut
  const Event event = finding_event(f);
  EXPECT_TRUE(event.flag("raw_request_truncated"));
  EXPECT_EQ(event.text("raw_request"), f.raw_request.substr(0, kEventRequestBytes - 1));
  EXPECT_EQ(event.number("request_bytes"), static_cast<double>(f.raw_request.size()));
  EXPECT_EQ(finding_event(full_finding()).find("raw_request_truncated"), nullptr);
  f.raw_request.replace(kEventRequestBytes - 2, 2, "\xc3\xa9");  // an é that ends at the cut stays
  EXPECT_EQ(finding_event(f).text("raw_request"), f.raw_request.substr(0, kEventRequestBytes));
}

TEST(ActivityEvents, StartedAndSummaryHaveOneShapeForBothEngines) {
  const Event started = started_event("security", "scan", "http://127.0.0.1:8080", 12, 7);
  EXPECT_EQ(started.type, "security.started");
  EXPECT_EQ(started.text("name"), "scan");
  EXPECT_EQ(started.text("base_url"), "http://127.0.0.1:8080");
  EXPECT_EQ(started.number("operations"), 12);
  EXPECT_EQ(started.number("seed"), 7);
  EXPECT_EQ(started_event("fuzz", "f", "", 0, 18446744073709551615ULL).text("seed"), "18446744073709551615");

  const Event summary = summary_event("fuzz", "fuzz", 20000, 2.0, sarif_findings());
  EXPECT_EQ(summary.type, "fuzz.summary");
  EXPECT_EQ(summary.text("name"), "fuzz");
  EXPECT_EQ(summary.number("requests"), 20000);
  EXPECT_EQ(summary.number("requests_per_s"), 10000);
  EXPECT_EQ(summary.number("findings"), 5);
  EXPECT_EQ(Json::parse(summary.text("by_severity")),
            (Json{{"critical", 1}, {"high", 1}, {"info", 1}, {"low", 1}, {"medium", 1}}));
  EXPECT_EQ(summary.number("duration_s"), 2.0);
}

TEST(SeverityGate, FailsOnAFindingAtOrAboveTheThreshold) {
  auto findings = sarif_findings();  // critical, high, medium, low, info
  EXPECT_TRUE(any_at_or_above(findings, Severity::critical));
  findings.erase(findings.begin() + 2);  // the critical one
  EXPECT_FALSE(any_at_or_above(findings, Severity::critical));
  EXPECT_TRUE(any_at_or_above(findings, Severity::high));
  EXPECT_FALSE(any_at_or_above({}, Severity::info));
  EXPECT_EQ(kDefaultFailOn, Severity::medium);
}

TEST(FindingsText, OneLinePerFindingWithSeverityIdOracleOperationTitleAndFaults) {
  const auto findings = sarif_findings();
  const std::string text = format_findings(findings);
  const auto lines = [&] {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
      out.push_back(text.substr(start, end - start));
    return out;
  }();
  ASSERT_EQ(lines.size(), findings.size());
  EXPECT_EQ(lines[0].rfind("high     " + findings[0].id() + " server_error", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("createOrder"), std::string::npos);
  EXPECT_NE(lines[0].find(findings[0].title + " (x17)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("[faults: latency 300ms on token, http_error 503 on token] (only with faults)"),
            std::string::npos)
      << lines[0];
  EXPECT_EQ(lines[2].rfind("critical " + findings[2].id() + " fail_open", 0), 0u) << lines[2];
  EXPECT_NE(lines[3].find(" - "), std::string::npos) << "a target-wide finding: " << lines[3];
  EXPECT_EQ(format_findings({}), "no findings\n");
}

}  // namespace
}  // namespace chaosplus::fuzz
