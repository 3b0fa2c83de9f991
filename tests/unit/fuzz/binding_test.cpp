// Findings whose request uses an id an earlier answer gave: the engine binds it to the request that
// made it (Harvest::bind), the findings file keeps the binding, and replay reads the new id from
// the setup answer and puts it in place (binding.h).
#include "fuzz/binding.h"

#include <gtest/gtest.h>

#include "fuzz/finding_output.h"
#include "fuzz/harvest.h"

namespace chaosplus::fuzz {
namespace {

openapi::Operation operation(std::string id, std::string method, std::string path) {
  openapi::Operation op;
  op.id = std::move(id);
  op.method = std::move(method);
  op.path = std::move(path);
  return op;
}

Reply answer(int status, std::string body, std::string location = "") {
  Reply reply;
  reply.outcome = Outcome::response;
  reply.response.status = status;
  reply.response.body = std::move(body);
  if (!reply.response.body.empty()) reply.response.set_header("Content-Type", "application/json");
  if (!location.empty()) reply.response.set_header("Location", location);
  return reply;
}

const char* kCreate = "POST /users/me/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
const char* kPut = "PUT /users/me/orders/3 HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{\"id\":33}";

TEST(Binding, ReplacesWholePathSegmentsOfTheRequestLineOnly) {
  std::string bytes = kPut;
  EXPECT_EQ(substitute_path(bytes, "3", "17"), 1u);
  EXPECT_EQ(bytes, "PUT /users/me/orders/17 HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{\"id\":33}");
  std::string query = "GET /orders/3/items/3?x=3 HTTP/1.1\r\n\r\n";
  EXPECT_EQ(substitute_path(query, "3", "a%2Fb"), 2u);
  EXPECT_EQ(query, "GET /orders/a%2Fb/items/a%2Fb?x=3 HTTP/1.1\r\n\r\n");
  std::string none = "GET /orders/33 HTTP/1.1\r\n\r\n";
  EXPECT_EQ(substitute_path(none, "3", "4"), 0u) << "a segment that merely contains it is left";
  EXPECT_EQ(none, "GET /orders/33 HTTP/1.1\r\n\r\n");
}

TEST(Binding, ReadsTheNewValueFromLocationOrBody) {
  const Binding location{0, "header:Location", "/users/me/orders/{id}", "id", "3"};
  auto v = read_binding(location, answer(201, "", "http://127.0.0.1:1/api/users/me/orders/9"));
  ASSERT_TRUE(v) << v.error();
  EXPECT_EQ(*v, "9") << "the template matches the tail: a base path may come first";
  v = read_binding(location, answer(201, "{}"));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error(), "gave no Location (status 201)");
  EXPECT_FALSE(read_binding(location, answer(201, "", "/products/9")));

  const Binding body{0, "body:/data/0/id", "", "", "3"};
  v = read_binding(body, answer(201, R"({"data":[{"id":"a b"}]})"));
  ASSERT_TRUE(v) << v.error();
  EXPECT_EQ(*v, "a%20b") << "as a path segment carries it";
  v = read_binding(body, answer(201, R"({"data":[]})"));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error(), "gave a body without /data/0/id");
  Reply cut;
  cut.outcome = Outcome::reset;
  EXPECT_FALSE(read_binding(body, cut));
}

TEST(Binding, ApplyPutsTheValueInTheLaterRequestsOrSaysWhichSetupFailed) {
  std::vector<std::string> setup = {kCreate, "DELETE /users/me/orders/3 HTTP/1.1\r\n\r\n"};
  std::string request = "GET /users/me/orders/3 HTTP/1.1\r\n\r\n";
  const std::vector<Binding> bindings = {{0, "body:/id", "", "", "3"}};
  ASSERT_TRUE(apply_bindings(bindings, 0, answer(201, R"({"id": 12})"), setup, request));
  EXPECT_EQ(setup[0], kCreate);
  EXPECT_EQ(setup[1], "DELETE /users/me/orders/12 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(request, "GET /users/me/orders/12 HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(apply_bindings(bindings, 1, answer(204, ""), setup, request)) << "no binding on that one";
  auto failed = apply_bindings(bindings, 0, answer(400, R"({"error":"x"})"), setup, request);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), "setup request 1 gave a body without /id");
}

TEST(Binding, TheFindingsFileKeepsThemAndOlderFilesHaveNone) {
  Finding f;
  f.engine = "fuzz";
  f.oracle = "accepted_invalid";
  f.operation = "replaceMyOrder";
  f.trigger = {"status_class", "2xx"};
  f.raw_request = kPut;
  f.setup_requests = {kCreate};
  f.bindings = {{0, "header:Location", "/users/me/orders/{id}", "id", "3"}, {0, "body:/id", "", "", "3"}};
  const Json json = to_json(f);
  ASSERT_TRUE(json.contains("bindings"));
  auto back = finding_from_json(json);
  ASSERT_TRUE(back) << back.error();
  ASSERT_EQ(back->bindings.size(), 2u);
  EXPECT_EQ(back->bindings[0].source, "header:Location");
  EXPECT_EQ(back->bindings[0].path_template, "/users/me/orders/{id}");
  EXPECT_EQ(back->bindings[0].param, "id");
  EXPECT_EQ(back->bindings[0].placeholder, "3");
  EXPECT_EQ(back->bindings[1].source, "body:/id");
  EXPECT_EQ(to_json(*back), json);

  Json old = json;
  old.erase("bindings");
  back = finding_from_json(old);
  ASSERT_TRUE(back) << back.error();
  EXPECT_TRUE(back->bindings.empty());
  EXPECT_FALSE(to_json(*back).contains("bindings")) << "none: the key is left out";

  Json bad = json;
  bad["bindings"][1]["setup_index"] = 1u;
  back = finding_from_json(bad);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error(), "bindings[1]: setup_index 1: there are 1 setup request(s)");
  bad = json;
  bad["bindings"][0]["source"] = "cookie:sid";
  EXPECT_FALSE(finding_from_json(bad));
  bad = json;
  bad["bindings"][0].erase("placeholder");
  back = finding_from_json(bad);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error(), "bindings[0].placeholder: missing");
}

TEST(Binding, TheHarvestBindsAFindingsPathIdToTheRequestThatMadeIt) {
  openapi::Document doc;
  doc.operations = {operation("createMyOrder", "POST", "/users/me/orders"),
                    operation("replaceMyOrder", "PUT", "/users/me/orders/{id}"),
                    operation("createItem", "POST", "/items")};
  Harvest harvest;
  net::Response created;
  created.status = 201;
  created.set_header("Location", "/users/me/orders/3");
  harvest.harvest(doc, doc.operations[0], RequestCase{}, created, "", std::make_shared<const std::string>(kCreate));
  Finding f;
  f.request.path_params["id"] = 3;
  f.raw_request = kPut;
  f.setup_requests = {"GET /other HTTP/1.1\r\n\r\n"};
  harvest.bind(doc.operations[1], f);
  ASSERT_EQ(f.setup_requests.size(), 2u);
  EXPECT_EQ(f.setup_requests[0], kCreate) << "the producer goes first";
  ASSERT_EQ(f.bindings.size(), 1u);
  EXPECT_EQ(f.bindings[0].setup_index, 0u);
  EXPECT_EQ(f.bindings[0].source, "header:Location");
  EXPECT_EQ(f.bindings[0].path_template, "/users/me/orders/{id}");
  EXPECT_EQ(f.bindings[0].param, "id");
  EXPECT_EQ(f.bindings[0].placeholder, "3");
  EXPECT_TRUE(check_binding(f.bindings[0], f.setup_requests.size()));

  // A body gives its JSON pointer; a value the harvest does not know is left alone.
  Harvest from_body;
  from_body.harvest(
      doc, doc.operations[0], RequestCase{},
      [] {
        net::Response r;
        r.status = 201;
        r.body = R"({"data": {"id": 3}})";
        r.set_header("Content-Type", "application/json");
        return r;
      }(),
      "", std::make_shared<const std::string>(kCreate));
  Finding g;
  g.request.path_params["id"] = 3;
  g.raw_request = kPut;
  from_body.bind(doc.operations[1], g);
  ASSERT_EQ(g.bindings.size(), 1u);
  EXPECT_EQ(g.bindings[0].source, "body:/data/id");
  Finding unknown;
  unknown.request.path_params["id"] = 4;
  unknown.raw_request = "PUT /users/me/orders/4 HTTP/1.1\r\n\r\n";
  from_body.bind(doc.operations[1], unknown);
  EXPECT_TRUE(unknown.bindings.empty());
  EXPECT_TRUE(unknown.setup_requests.empty());
}

TEST(Binding, AValuePushedOutOrForgottenStillKnowsWhatMadeIt) {
  openapi::Document doc;
  doc.operations = {operation("createMyOrder", "POST", "/users/me/orders"),
                    operation("replaceMyOrder", "PUT", "/users/me/orders/{id}")};
  Harvest harvest;
  const auto made = [&](int id) {
    net::Response r;
    r.status = 201;
    r.set_header("Location", "/users/me/orders/" + std::to_string(id));
    harvest.harvest(doc, doc.operations[0], RequestCase{}, r, "",
                    std::make_shared<const std::string>("POST #" + std::to_string(id)));
  };
  for (int id = 1; id <= static_cast<int>(Harvest::kPerKey) + 1; ++id) made(id);
  ASSERT_EQ(harvest.find("order.id", Json(1)), nullptr) << "pushed out by newer ones";
  // A later request naming it (2xx) makes it known again, without a producer.
  RequestCase named;
  named.path_params["id"] = 1;
  harvest.harvest(doc, doc.operations[1], named, net::Response{}, "", std::make_shared<const std::string>("PUT #1"));
  ASSERT_NE(harvest.find("order.id", Json(1)), nullptr);
  EXPECT_EQ(harvest.find("order.id", Json(1))->producer, nullptr) << "the PUT named it, it did not make it";

  Finding f;
  f.request.path_params["id"] = 1;
  f.raw_request = "PUT /users/me/orders/1 HTTP/1.1\r\n\r\n";
  harvest.bind(doc.operations[1], f);
  ASSERT_EQ(f.setup_requests, std::vector<std::string>{"POST #1"});
  ASSERT_EQ(f.bindings.size(), 1u);
  EXPECT_EQ(f.bindings[0].path_template, "/users/me/orders/{id}");

  harvest.forget("order.id", Json(30));
  Finding g;
  g.request.path_params["id"] = 30;
  g.raw_request = "PUT /users/me/orders/30 HTTP/1.1\r\n\r\n";
  harvest.bind(doc.operations[1], g);
  EXPECT_EQ(g.setup_requests, std::vector<std::string>{"POST #30"}) << "deleted since: the replay makes it again";
}

}  // namespace
}  // namespace chaosplus::fuzz
