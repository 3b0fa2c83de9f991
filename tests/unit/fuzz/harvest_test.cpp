#include "fuzz/harvest.h"

#include <gtest/gtest.h>

#include "fuzz/corpus.h"

namespace chaosplus::fuzz {
namespace {

openapi::Operation operation(std::string id, std::string method, std::string path) {
  openapi::Operation op;
  op.id = std::move(id);
  op.method = std::move(method);
  op.path = std::move(path);
  return op;
}

net::Response json_response(int status, std::string body) {
  net::Response r;
  r.status = status;
  r.body = std::move(body);
  r.set_header("Content-Type", "application/json");
  return r;
}

TEST(Keys, NameResourcesTheSameWayInPathsAndBodies) {
  EXPECT_EQ(singular("orders"), "order");
  EXPECT_EQ(singular("categories"), "category");
  EXPECT_EQ(singular("addresses"), "address");
  EXPECT_EQ(resource_of("/orders/{id}/items"), "item");
  EXPECT_EQ(param_key("/orders/{id}", "id"), "order.id");
  EXPECT_EQ(param_key("/orders/{orderId}", "orderId"), "order.id");
  EXPECT_EQ(param_key("/orders/{orderId}/items/{itemId}", "itemId"), "item.id");
  EXPECT_EQ(param_key("/products/{sku}", "sku"), "sku");
  EXPECT_EQ(field_key("order", "id"), "order.id");
  EXPECT_EQ(field_key("order", "customerId"), "customer.id");
  EXPECT_EQ(field_key("order", "customer_id"), "customer.id");
  EXPECT_EQ(field_key("order", "paid"), "paid");  // a word ending in "id" is not an id
}

TEST(Harvest, IdsFromABodyFeedThePathOfLaterCalls) {
  openapi::Document doc;
  doc.operations = {operation("createOrder", "POST", "/orders"), operation("getOrder", "GET", "/orders/{id}")};
  Harvest harvest;
  RequestCase create;
  create.operation_id = "createOrder";
  auto follow_ups = harvest.harvest(doc, doc.operations[0], create,
                                    json_response(201, R"({"id": 42, "customerId": 7, "items": [{"id": 3}]})"), "",
                                    std::make_shared<const std::string>("POST /orders ..."));
  EXPECT_TRUE(follow_ups.empty());
  Rng rng(1);
  ASSERT_NE(harvest.pick("order.id", rng), nullptr);
  EXPECT_EQ(harvest.pick("order.id", rng)->value, 42);
  EXPECT_EQ(*harvest.pick("order.id", rng)->producer, "POST /orders ...");
  EXPECT_EQ(harvest.pick("customer.id", rng)->value, 7);
  EXPECT_EQ(harvest.pick("item.id", rng)->value, 3);
}

TEST(Harvest, LocationHeadersAreMatchedAgainstThePathTemplates) {
  openapi::Document doc;
  doc.operations = {operation("createOrder", "POST", "/orders"), operation("getOrder", "GET", "/orders/{orderId}")};
  Harvest harvest;
  net::Response r;
  r.status = 201;
  r.set_header("Location", "http://127.0.0.1:8080/api/orders/abc-9");
  harvest.harvest(doc, doc.operations[0], RequestCase{}, r, "/api", nullptr);
  Rng rng(1);
  ASSERT_NE(harvest.pick("order.id", rng), nullptr);
  EXPECT_EQ(harvest.pick("order.id", rng)->value, "abc-9");
  r.set_header("Location", "/orders/17");
  harvest.harvest(doc, doc.operations[0], RequestCase{}, r, "", nullptr);
  EXPECT_NE(harvest.find("order.id", Json(17)), nullptr);  // digits become a number
}

TEST(Harvest, LinksGiveValuesAndFollowUps) {
  openapi::Document doc;
  doc.operations = {operation("createUser", "POST", "/users"), operation("getUser", "GET", "/users/{userId}")};
  openapi::Parameter p;
  p.name = "userId";
  p.in = openapi::ParameterIn::path;
  doc.operations[1].parameters.push_back(p);
  openapi::ResponseSpec created;
  created.status = "201";
  created.links.push_back({"GetUser", "getUser", {{"userId", "$response.body#/uuid"}}, std::nullopt});
  doc.operations[0].responses.push_back(created);
  Harvest harvest;
  auto follow_ups =
      harvest.harvest(doc, doc.operations[0], RequestCase{}, json_response(201, R"({"uuid":"u-1"})"), "", nullptr);
  ASSERT_EQ(follow_ups.size(), 1u);
  EXPECT_EQ(follow_ups[0].operation_id, "getUser");
  EXPECT_EQ(follow_ups[0].parameters.at("userId"), "u-1");
  Rng rng(1);
  EXPECT_EQ(harvest.pick("user.id", rng)->value, "u-1");
}

TEST(Harvest, RuntimeExpressionsReadTheExchange) {
  RequestCase request;
  request.path_params["id"] = 5;
  request.query.emplace_back("q", "shoes");
  net::Response response = json_response(200, R"({"data":{"next":"n-2"}})");
  response.set_header("X-Next", "abc");
  EXPECT_EQ(*evaluate_expression("$response.body#/data/next", request, response), "n-2");
  EXPECT_EQ(*evaluate_expression("$response.header.X-Next", request, response), "abc");
  EXPECT_EQ(*evaluate_expression("{$request.path.id}", request, response), 5);
  EXPECT_EQ(*evaluate_expression("$request.query.q", request, response), "shoes");
  EXPECT_EQ(*evaluate_expression("$statusCode", request, response), 200);
  EXPECT_FALSE(evaluate_expression("$response.body#/missing", request, response));
  EXPECT_EQ(*evaluate_expression("constant", request, response), "constant");
}

TEST(Harvest, ADeletedValueIsForgotten) {
  Harvest harvest;
  harvest.add("order.id", 1);
  harvest.add("order.id", 2);
  harvest.forget("order.id", 1);
  EXPECT_EQ(harvest.size(), 1u);
  EXPECT_EQ(harvest.find("order.id", Json(1)), nullptr);
  EXPECT_NE(harvest.find("order.id", Json(2)), nullptr);
}

TEST(Harvest, KeepsTheNewestValuesPerKey) {
  Harvest harvest;
  for (int i = 0; i < 200; ++i) harvest.add("order.id", i);
  EXPECT_EQ(harvest.size(), Harvest::kPerKey);
  EXPECT_NE(harvest.find("order.id", Json(199)), nullptr);
  EXPECT_EQ(harvest.find("order.id", Json(0)), nullptr);
}

TEST(Corpus, ANewOperationStatusShapeJoinsOnce) {
  Corpus corpus;
  Rng rng(3);
  RequestCase r;
  r.operation_id = "listOrders";
  const auto a = response_shape(json_response(200, R"([{"id":1,"total":2.5}])"));
  const auto b = response_shape(json_response(200, R"([{"id":9,"total":0}])"));
  const auto c = response_shape(json_response(200, R"([{"id":9,"total":"x"}])"));
  EXPECT_EQ(a, b);  // values differ, shape does not
  EXPECT_NE(a, c);  // a field changed type
  EXPECT_TRUE(corpus.offer(r, 200, a, rng));
  EXPECT_FALSE(corpus.offer(r, 200, b, rng));
  EXPECT_TRUE(corpus.offer(r, 200, c, rng));
  EXPECT_TRUE(corpus.offer(r, 404, a, rng));
  EXPECT_EQ(corpus.size(), 3u);
  EXPECT_NE(corpus.pick(rng), nullptr);
}

TEST(Corpus, DrawsHugeEntriesRarelyButStillDrawsThem) {
  Corpus corpus;
  Rng rng(5);
  RequestCase small;
  small.operation_id = "small";
  RequestCase huge;
  huge.operation_id = "huge";
  const auto shape = response_shape(json_response(200, "{}"));
  ASSERT_TRUE(corpus.offer(small, 200, shape, rng, 200));
  ASSERT_TRUE(corpus.offer(huge, 414, shape, rng, 64 * 1024));
  int huge_drawn = 0;
  constexpr int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) huge_drawn += corpus.pick(rng)->operation_id == "huge";
  // Kept with probability 4 KiB / 64 KiB per draw: about 6% of the picks, against 50% unweighted.
  EXPECT_GT(huge_drawn, kDraws / 50);
  EXPECT_LT(huge_drawn, kDraws / 10);

  Corpus only_huge;  // nothing small to prefer: the huge entry is still drawn every time
  ASSERT_TRUE(only_huge.offer(huge, 414, shape, rng, 1 << 20));
  for (int i = 0; i < 100; ++i) EXPECT_NE(only_huge.pick(rng), nullptr);
}

}  // namespace
}  // namespace chaosplus::fuzz
