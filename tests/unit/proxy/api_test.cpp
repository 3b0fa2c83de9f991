#include "proxy/api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "proxy/address.h"
#include "unit/proxy/control_api_fixture.h"

namespace chaosplus::proxy {
namespace {

using nlohmann::json;

TEST_F(ControlApiTest, CreatingAProxyAnswers201WithTheBoundAddress) {
  auto response = call("POST", "/proxies", R"({"name":"db","listen":"127.0.0.1:0","upstream":"127.0.0.1:5432"})");
  ASSERT_EQ(response.status, 201) << response.body;
  auto body = json::parse(response.body);
  EXPECT_EQ(body["name"], "db");
  EXPECT_EQ(body["upstream"], "127.0.0.1:5432");
  EXPECT_EQ(body["enabled"], true);
  EXPECT_TRUE(body["toxics"].is_array());
  std::string listen = body["listen"];
  EXPECT_EQ(listen.rfind("127.0.0.1:", 0), 0u);
  EXPECT_NE(listen, "127.0.0.1:0");
}

TEST_F(ControlApiTest, ListingProxiesGivesAnObjectKeyedByName) {
  create_proxy("a");
  create_proxy("b");
  auto response = call("GET", "/proxies");
  ASSERT_EQ(response.status, 200);
  auto body = json::parse(response.body);
  ASSERT_TRUE(body.is_object());
  EXPECT_EQ(body["a"]["name"], "a");
  EXPECT_EQ(body["b"]["name"], "b");
}

TEST_F(ControlApiTest, BadJsonIsA400ThatSaysSo) {
  auto response = call("POST", "/proxies", "{\"name\": ");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("invalid JSON"), std::string::npos);
}

TEST_F(ControlApiTest, AMissingUpstreamIsA400ThatNamesTheField) {
  auto response = call("POST", "/proxies", R"({"name":"x","listen":"127.0.0.1:0"})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("upstream"), std::string::npos);
}

TEST_F(ControlApiTest, AWronglyTypedFieldIsA400ThatNamesTheField) {
  auto response = call("POST", "/proxies", R"({"name":"x","upstream":"127.0.0.1:1","enabled":"yes"})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("enabled"), std::string::npos);
}

TEST_F(ControlApiTest, ANonLoopbackListenAddressIsRefused) {
  auto response = call("POST", "/proxies", R"({"name":"x","listen":"0.0.0.0:0","upstream":"127.0.0.1:1"})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("loopback"), std::string::npos);
}

TEST_F(ControlApiTest, ANonLoopbackUpstreamIsRefusedSoTheApiCannotReachBeyondTheHost) {
  for (const char* upstream : {"10.0.0.5:5432", "192.168.1.1:80", "[2001:db8::1]:443"}) {
    auto response =
        call("POST", "/proxies", std::string(R"({"name":"x","listen":"127.0.0.1:0","upstream":")") + upstream + "\"}");
    EXPECT_EQ(response.status, 400) << upstream;
    EXPECT_NE(error_of(response).find("not on the allow-list"), std::string::npos) << error_of(response);
  }
  auto moved = call("POST", "/proxies", R"({"name":"y","listen":"127.0.0.1:0","upstream":"127.0.0.1:1"})");
  ASSERT_EQ(moved.status, 201);
  auto updated = call("POST", "/proxies/y", R"({"upstream":"10.0.0.5:80"})");
  EXPECT_EQ(updated.status, 400);
  EXPECT_NE(error_of(updated).find("loopback"), std::string::npos) << error_of(updated);
}

TEST_F(ControlApiTest, AListenAddressInUseIsA400ThatSaysSo) {
  auto taken = listen_on(resolve({"127.0.0.1", 0}).value());
  ASSERT_TRUE(taken.ok());
  std::string address = local_address(taken->get())->to_string();
  auto response =
      call("POST", "/proxies", json{{"name", "x"}, {"listen", address}, {"upstream", "127.0.0.1:1"}}.dump());
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("in use"), std::string::npos);
}

TEST_F(ControlApiTest, ADuplicateProxyIsA409) {
  create_proxy("twice");
  auto response = call("POST", "/proxies", R"({"name":"twice","listen":"127.0.0.1:0","upstream":"127.0.0.1:1"})");
  EXPECT_EQ(response.status, 409);
  EXPECT_NE(error_of(response).find("already exists"), std::string::npos);
}

TEST_F(ControlApiTest, AnUnknownProxyIsA404) {
  EXPECT_EQ(call("GET", "/proxies/nope").status, 404);
  EXPECT_EQ(call("DELETE", "/proxies/nope").status, 404);
  EXPECT_EQ(call("POST", "/proxies/nope/toxics", R"({"type":"latency","attributes":{"latency":1}})").status, 404);
}

TEST_F(ControlApiTest, AddingAToxicFillsDefaultsAndListsIt) {
  create_proxy("p");
  auto response = call("POST", "/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":250}})");
  ASSERT_EQ(response.status, 200) << response.body;
  auto toxic = json::parse(response.body);
  EXPECT_EQ(toxic["name"], "latency_downstream");
  EXPECT_EQ(toxic["stream"], "downstream");
  EXPECT_EQ(toxic["toxicity"], 1.0);
  EXPECT_EQ(toxic["attributes"]["latency"], 250);
  EXPECT_EQ(toxic["attributes"]["jitter"], 0);
  auto list = json::parse(call("GET", "/proxies/p/toxics").body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "latency_downstream");
  EXPECT_EQ(json::parse(call("GET", "/proxies/p").body)["toxics"].size(), 1u);
}

TEST_F(ControlApiTest, AnUnknownToxicTypeIsA400ThatListsTheKnownOnes) {
  create_proxy("p");
  auto response = call("POST", "/proxies/p/toxics", R"({"type":"gremlin","attributes":{}})");
  EXPECT_EQ(response.status, 400);
  auto error = error_of(response);
  EXPECT_NE(error.find("gremlin"), std::string::npos);
  EXPECT_NE(error.find("latency"), std::string::npos);
}

TEST_F(ControlApiTest, AMissingAttributeIsA400ThatNamesIt) {
  create_proxy("p");
  auto response = call("POST", "/proxies/p/toxics", R"({"type":"bandwidth","attributes":{}})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("'rate'"), std::string::npos);
}

TEST_F(ControlApiTest, ANegativeAttributeIsA400ThatNamesIt) {
  create_proxy("p");
  auto response = call("POST", "/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":-10}})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("'latency'"), std::string::npos);
}

TEST_F(ControlApiTest, AFractionalAttributeIsA400) {
  create_proxy("p");
  auto response = call("POST", "/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":1.5}})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("whole number"), std::string::npos);
}

TEST_F(ControlApiTest, ToxicityOutsideZeroToOneIsA400) {
  create_proxy("p");
  auto response = call("POST", "/proxies/p/toxics", R"({"type":"latency","toxicity":1.5,"attributes":{"latency":1}})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("toxicity"), std::string::npos);
}

TEST_F(ControlApiTest, ADuplicateToxicIsA409) {
  create_proxy("p");
  ASSERT_EQ(call("POST", "/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":1}})").status, 200);
  auto response = call("POST", "/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":2}})");
  EXPECT_EQ(response.status, 409);
}

TEST_F(ControlApiTest, PatchingAToxicMergesAttributes) {
  create_proxy("p");
  ASSERT_EQ(
      call("POST", "/proxies/p/toxics", R"({"name":"slow","type":"latency","attributes":{"latency":100,"jitter":5}})")
          .status,
      200);
  auto response = call("PATCH", "/proxies/p/toxics/slow", R"({"attributes":{"jitter":9},"toxicity":0.5})");
  ASSERT_EQ(response.status, 200) << response.body;
  auto toxic = json::parse(response.body);
  EXPECT_EQ(toxic["attributes"]["latency"], 100);
  EXPECT_EQ(toxic["attributes"]["jitter"], 9);
  EXPECT_EQ(toxic["toxicity"], 0.5);
}

TEST_F(ControlApiTest, AnHttpToxicTakesTextAttributesAndShowsThemBack) {
  create_proxy("p");
  auto response = call("POST", "/proxies/p/toxics",
                       R"({"type":"http_status","toxicity":0.1,
                           "attributes":{"method":"POST","path":"/orders","status":503,"body":"busy"}})");
  ASSERT_EQ(response.status, 200) << response.body;
  auto toxic = json::parse(response.body);
  EXPECT_EQ(toxic["name"], "http_status_upstream");
  EXPECT_EQ(toxic["stream"], "upstream");
  EXPECT_EQ(toxic["toxicity"], 0.1);
  EXPECT_EQ(toxic["attributes"]["method"], "POST");
  EXPECT_EQ(toxic["attributes"]["path"], "/orders");
  EXPECT_EQ(toxic["attributes"]["status"], 503);
  EXPECT_EQ(toxic["attributes"]["body"], "busy");
  auto patched = call("PATCH", "/proxies/p/toxics/http_status_upstream", R"({"attributes":{"path":"/carts"}})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json::parse(patched.body)["attributes"]["path"], "/carts");
}

TEST_F(ControlApiTest, BadHttpToxicSettingsAre400sThatSayWhy) {
  create_proxy("p");
  struct Case {
    const char* body;
    const char* reason;
  };
  for (const Case& c : {
           Case{R"({"type":"http_status","attributes":{"status":700}})", "'status'"},
           Case{R"({"type":"http_status","attributes":{"method":"get"}})", "'GET'"},
           Case{R"({"type":"http_status","attributes":{"verb":"GET"}})", "unknown attribute 'verb'"},
           Case{R"({"type":"http_status","toxicity":1.5,"attributes":{}})", "toxicity"},
           Case{R"({"type":"http_status","toxicity":-0.1,"attributes":{}})", "toxicity"},
           Case{R"({"type":"http_delay","stream":"downstream","attributes":{"delay":5}})", "upstream"},
           Case{R"({"type":"http_abort","attributes":{"mode":true}})", "number or a string"},
           Case{R"({"type":"http_abort","attributes":{"bytes":"ten"}})", "must be a number"},
       }) {
    auto response = call("POST", "/proxies/p/toxics", c.body);
    EXPECT_EQ(response.status, 400) << c.body;
    EXPECT_NE(error_of(response).find(c.reason), std::string::npos) << c.body << " -> " << response.body;
  }
  EXPECT_EQ(json::parse(call("GET", "/proxies/p/toxics").body).size(), 0u);
}

TEST_F(ControlApiTest, RemovingAToxicAnswers204ThenItIsGone) {
  create_proxy("p");
  ASSERT_EQ(call("POST", "/proxies/p/toxics", R"({"type":"timeout","attributes":{"timeout":0}})").status, 200);
  EXPECT_EQ(call("DELETE", "/proxies/p/toxics/timeout_downstream").status, 204);
  EXPECT_EQ(call("GET", "/proxies/p/toxics/timeout_downstream").status, 404);
  EXPECT_EQ(call("DELETE", "/proxies/p/toxics/timeout_downstream").status, 404);
}

TEST_F(ControlApiTest, DisablingAndEnablingAProxyKeepsItsPort) {
  create_proxy("p");
  std::string listen = json::parse(call("GET", "/proxies/p").body)["listen"];
  auto off = call("POST", "/proxies/p", R"({"enabled":false})");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(json::parse(off.body)["enabled"], false);
  auto on = call("PATCH", "/proxies/p", R"({"enabled":true})");
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_EQ(json::parse(on.body)["listen"], listen);
}

TEST_F(ControlApiTest, ResetRemovesToxicsAndEnablesProxies) {
  create_proxy("p");
  ASSERT_EQ(call("POST", "/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":1}})").status, 200);
  ASSERT_EQ(call("PATCH", "/proxies/p", R"({"enabled":false})").status, 200);
  EXPECT_EQ(call("POST", "/reset").status, 204);
  auto proxy = json::parse(call("GET", "/proxies/p").body);
  EXPECT_EQ(proxy["enabled"], true);
  EXPECT_TRUE(proxy["toxics"].empty());
}

TEST_F(ControlApiTest, PopulateCreatesProxiesAndIsIdempotent) {
  std::string body = R"([{"name":"one","listen":"127.0.0.1:0","upstream":"127.0.0.1:1"},
                         {"name":"two","listen":"127.0.0.1:0","upstream":"127.0.0.1:2"}])";
  auto first = call("POST", "/populate", body);
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(json::parse(first.body)["proxies"].size(), 2u);
  auto second = call("POST", "/populate", body);
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(json::parse(first.body)["proxies"][0]["listen"], json::parse(second.body)["proxies"][0]["listen"]);
  EXPECT_EQ(json::parse(call("GET", "/proxies").body).size(), 2u);
}

TEST_F(ControlApiTest, PopulateWithABadEntrySaysWhichOne) {
  auto response = call("POST", "/populate", R"([{"name":"ok","upstream":"127.0.0.1:1"},{"name":"bad"}])");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("#2"), std::string::npos);
}

TEST_F(ControlApiTest, VersionIsJson) {
  auto response = call("GET", "/version");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body)["version"], kProxyVersion);
}

TEST_F(ControlApiTest, UnknownRoutesAre404AndWrongMethods405) {
  EXPECT_EQ(call("GET", "/nothing").status, 404);
  EXPECT_EQ(call("GET", "/proxies/a/b").status, 404);
  EXPECT_EQ(call("PUT", "/proxies").status, 405);
  EXPECT_EQ(call("GET", "/reset").status, 405);
}

TEST_F(ControlApiTest, BrowsersAreRefused) {
  net::Request request;
  request.method = "GET";
  request.target = "/proxies";
  request.headers.push_back({"User-Agent", "Mozilla/5.0 (X11)"});
  EXPECT_EQ(api_->handle(request).status, 403);
}

// Every route that reads a JSON body, with a body of `depth` levels of `open`.
std::vector<std::pair<std::string, std::string>> json_routes() {
  return {{"POST", "/proxies"},
          {"POST", "/proxies/p"},
          {"PATCH", "/proxies/p"},
          {"POST", "/populate"},
          {"POST", "/proxies/p/toxics"},
          {"POST", "/proxies/p/toxics/slow"},
          {"PATCH", "/proxies/p/toxics/slow"}};
}

TEST_F(ControlApiTest, AMillionLevelsOfNestingAreA400AtEveryJsonRoute) {
  create_proxy("p");
  ASSERT_EQ(call("POST", "/proxies/p/toxics", R"({"name":"slow","type":"latency","attributes":{"latency":1}})").status,
            200);
  for (char open : {'[', '{'}) {
    const std::string body(1'000'000, open);
    for (const auto& [method, target] : json_routes()) {
      auto response = call(method, target, body);
      EXPECT_EQ(response.status, 400) << method << " " << target;
      EXPECT_NE(error_of(response).find("nested deeper than"), std::string::npos) << response.body;
    }
  }
  // A valid body whose field is deep: the finding (80,000 arrays around a name) crashed the old API
  // when the type error quoted the value.
  std::string deep_name = std::string(80'000, '[') + std::string(80'000, ']');
  auto named = call("POST", "/proxies", R"({"name":)" + deep_name + R"(,"upstream":"127.0.0.1:1"})");
  EXPECT_EQ(named.status, 400);
  EXPECT_EQ(call("GET", "/proxies/p").status, 200);
}

TEST_F(ControlApiTest, TypeErrorsDescribeTheValueInsteadOfEchoingIt) {
  const std::string big(100'000, 'x');
  auto response = call("POST", "/proxies", R"({"name":["a",")" + big + R"("],"upstream":"127.0.0.1:1"})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(error_of(response).find("field 'name' must be a string, got an array of 2 items"), std::string::npos)
      << response.body.substr(0, 300);
  EXPECT_LT(response.body.size(), 300u);
}

TEST_F(ControlApiTest, NumbersOutOfRangeAndWrongTypesAre400sThatNameTheField) {
  create_proxy("p");
  struct Case {
    std::string method, target, body, field;
  };
  const std::vector<Case> cases = {
      {"POST", "/proxies/p/toxics", R"({"type":"latency","toxicity":1e309,"attributes":{"latency":1}})", "toxicity"},
      {"POST", "/proxies/p/toxics", R"({"type":"latency","toxicity":-0.5,"attributes":{"latency":1}})", "toxicity"},
      {"POST", "/proxies/p/toxics", R"({"type":"latency","toxicity":"NaN","attributes":{"latency":1}})", "toxicity"},
      {"POST", "/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":1e309}})", "attributes.latency"},
      {"POST", "/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":1e300}})", "latency"},
      {"POST", "/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":-5}})", "latency"},
      {"POST", "/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":[1]}})", "latency"},
      {"POST", "/proxies/p/toxics", R"({"type":7,"attributes":{"latency":1}})", "type"},
      {"POST", "/proxies", R"({"name":"q","upstream":"127.0.0.1:1","enabled":1e309})", "enabled"},
      {"POST", "/proxies", R"({"name":"q","upstream":"127.0.0.1:1","enabled":"yes"})", "enabled"},
      {"POST", "/proxies", R"({"name":"q","upstream":9})", "upstream"},
      {"POST", "/proxies/p", R"({"enabled":null,"listen":false})", "listen"},
  };
  for (const auto& c : cases) {
    auto response = call(c.method, c.target, c.body);
    EXPECT_EQ(response.status, 400) << c.body << " -> " << response.body;
    EXPECT_NE(error_of(response).find("'" + c.field + "'"), std::string::npos) << c.body << " -> " << response.body;
  }
  EXPECT_EQ(call("POST", "/proxies/p/toxics", R"({"name":"slow","type":"latency","attributes":{"latency":1}})").status,
            200);
  for (const char* body : {R"({"toxicity":1e309})", R"({"toxicity":2})", R"({"attributes":{"latency":-1}})"}) {
    auto response = call("POST", "/proxies/p/toxics/slow", body);
    EXPECT_EQ(response.status, 400) << body << " -> " << response.body;
    EXPECT_FALSE(error_of(response).empty());
  }
  EXPECT_EQ(json::parse(call("GET", "/proxies/p/toxics/slow").body)["toxicity"], 1.0);
}

TEST_F(ControlApiTest, UnknownFieldsOfAProxyAre400sThatNameTheField) {
  auto created = call("POST", "/proxies", R"({"name":"x","listen":"127.0.0.1:0","upsteam":"127.0.0.1:1"})");
  EXPECT_EQ(created.status, 400);
  EXPECT_NE(error_of(created).find("unknown field 'upsteam'"), std::string::npos) << created.body;
  EXPECT_NE(error_of(created).find("expected: name, listen, upstream, enabled, toxics"), std::string::npos);
  EXPECT_EQ(call("GET", "/proxies/x").status, 404);

  auto populated = call("POST", "/populate", R"([{"name":"y","upstream":"127.0.0.1:1","port":5}])");
  EXPECT_EQ(populated.status, 400);
  EXPECT_NE(error_of(populated).find("unknown field 'port'"), std::string::npos) << populated.body;

  create_proxy("p");
  auto updated = call("POST", "/proxies/p", R"({"enabled":false,"disabled":true})");
  EXPECT_EQ(updated.status, 400);
  EXPECT_NE(error_of(updated).find("unknown field 'disabled'"), std::string::npos) << updated.body;
  EXPECT_EQ(json::parse(call("GET", "/proxies/p").body)["enabled"], true);

  // What the API shows, sent back as it is (Toxiproxy's Go client does this), is fine.
  auto shown = json::parse(call("GET", "/proxies/p").body);
  shown["enabled"] = false;
  auto echoed = call("POST", "/proxies/p", shown.dump());
  EXPECT_EQ(echoed.status, 200) << echoed.body;
  auto with_null =
      call("POST", "/proxies", R"({"name":"z","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","toxics":null})");
  EXPECT_EQ(with_null.status, 201) << with_null.body;
  auto with_object = call("POST", "/proxies", R"({"name":"w","upstream":"127.0.0.1:1","toxics":{"a":1}})");
  EXPECT_EQ(with_object.status, 400);
  EXPECT_NE(error_of(with_object).find("'toxics'"), std::string::npos) << with_object.body;
}

TEST_F(ControlApiTest, ErrorsQuoteAtMostAKilobyteOfWhatWasSent) {
  create_proxy("p");
  const std::string huge(1 << 20, 'x');
  for (const auto& [target, body] : std::vector<std::pair<std::string, std::string>>{
           {"/proxies", R"({"name":"q","upstream":")" + huge + R"(:1"})"},
           {"/proxies/p/toxics", R"({"type":"http_status","attributes":{"path":"/)" + huge + R"("}})"},
           {"/proxies/p/toxics", R"({"type":")" + huge + R"("})"}}) {
    auto response = call("POST", target, body);
    EXPECT_EQ(response.status, 400) << response.body.substr(0, 200);
    EXPECT_LT(response.body.size(), 1200u);
    EXPECT_FALSE(error_of(response).empty());
  }
}

TEST_F(ControlApiTest, ANameThatIsNotUtf8IsStillAJsonAnswer) {
  auto response = call("GET", "/proxies/%FF%FE");
  EXPECT_EQ(response.status, 404);
  EXPECT_NE(error_of(response).find("not found"), std::string::npos) << response.body;
}

TEST_F(ControlApiTest, SaysWhichProxiesARequestMayHaveChanged) {
  auto touched = [&](const std::string& method, const std::string& target, const std::string& body = {}) {
    net::Request request;
    request.method = method;
    request.target = target;
    request.body = body;
    return ControlApi::touched(request, api_->handle(request));
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(touched("POST", "/proxies", R"({"name":"a","upstream":"127.0.0.1:1"})"), Names{"a"});
  EXPECT_EQ(touched("POST", "/proxies", R"({"name":"a","upstream":"127.0.0.1:1"})"), Names{});  // 409
  EXPECT_EQ(touched("POST", "/proxies", "not json"), Names{});
  EXPECT_EQ(touched("GET", "/proxies"), Names{});
  EXPECT_EQ(touched("POST", "/proxies/a/toxics", R"({"type":"latency","attributes":{"latency":1}})"), Names{"a"});
  EXPECT_EQ(touched("DELETE", "/proxies/%61"), Names{"a"});
  EXPECT_EQ(touched("POST", "/nothing"), Names{});
  EXPECT_EQ(touched("POST", "/reset"), std::nullopt);
  EXPECT_EQ(touched("POST", "/populate", "[]"), std::nullopt);
}

TEST(ControlApiToken, RequestsWithoutTheBearerTokenAre401) {
  auto engine = Engine::start({});
  ASSERT_TRUE(engine.ok());
  ControlApi api(**engine, "s3cret");
  net::Request request;
  request.method = "GET";
  request.target = "/proxies";
  EXPECT_EQ(api.handle(request).status, 401);
  request.headers.push_back({"Authorization", "Bearer wrong!"});
  EXPECT_EQ(api.handle(request).status, 401);
  request.headers.back().value = "Bearer s3cret";
  EXPECT_EQ(api.handle(request).status, 200);
}

// ---- what a toxic touched: GET /proxies/{proxy}/toxics/{toxic}/stats ----

TEST_F(ControlApiTest, AToxicsStatsStartAtZero) {
  create_proxy("db");
  ASSERT_EQ(call("POST", "/proxies/db/toxics", R"({"name":"slow","type":"latency","attributes":{"latency":5}})").status,
            200);
  auto response = call("GET", "/proxies/db/toxics/slow/stats");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body),
            json::parse(R"({"connections":0,"connections_skipped":0,"requests":0,"requests_skipped":0,"bytes":0})"));
}

TEST_F(ControlApiTest, TheStatsOfAnUnknownToxicAre404AndOnlyGetIsAllowed) {
  create_proxy("db");
  EXPECT_EQ(call("GET", "/proxies/db/toxics/none/stats").status, 404);
  EXPECT_EQ(call("GET", "/proxies/nope/toxics/none/stats").status, 404);
  ASSERT_EQ(call("POST", "/proxies/db/toxics", R"({"name":"slow","type":"latency","attributes":{"latency":5}})").status,
            200);
  EXPECT_EQ(call("DELETE", "/proxies/db/toxics/slow/stats").status, 405);
  EXPECT_EQ(call("GET", "/proxies/db/toxics/slow/other").status, 404);
}

TEST_F(ControlApiTest, TheStatsAddTheCountsOfTheOtherProcesses) {
  create_proxy("db");
  ASSERT_EQ(call("POST", "/proxies/db/toxics", R"({"name":"slow","type":"latency","attributes":{"latency":5}})").status,
            200);
  api_->set_peer_stats([](const std::string& proxy, const std::string& toxic) -> Result<ToxicCounters> {
    EXPECT_EQ(proxy, "db");
    EXPECT_EQ(toxic, "slow");
    return ToxicCounters{3, 4, 5, 6, 7};
  });
  auto response = call("GET", "/proxies/db/toxics/slow/stats");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body)["bytes"], 7);
  EXPECT_EQ(json::parse(response.body)["connections_skipped"], 4);
  api_->set_peer_stats([](const std::string&, const std::string&) -> Result<ToxicCounters> {
    return Error{"worker 42: no answer within 5 s"};
  });
  auto missing = call("GET", "/proxies/db/toxics/slow/stats");
  EXPECT_EQ(missing.status, 502);
  EXPECT_NE(error_of(missing).find("worker 42"), std::string::npos);
}

}  // namespace
}  // namespace chaosplus::proxy
