#include "security/probe_requests.h"

#include <gtest/gtest.h>

namespace chaosplus::security {
namespace {

using Json = fuzz::Json;

const std::string kGet = "GET /orders/7?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\n\r\n";

TEST(Users, ParseNameHeaderAndValue) {
  auto u = parse_user("alice=Authorization: Bearer demo-alice");
  ASSERT_TRUE(u) << u.error();
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->header, "Authorization");
  EXPECT_EQ(u->value, "Bearer demo-alice");
  EXPECT_FALSE(parse_user("alice"));
  EXPECT_FALSE(parse_user("=Authorization: x"));
  EXPECT_FALSE(parse_user("alice=Authorization"));
  EXPECT_NE(parse_user("alice:x").error().find("expected NAME='Header: value'"), std::string::npos);
}

TEST(Values, ExamplesEnumsTypesAndBounds) {
  EXPECT_EQ(example_value(Json{{"type", "string"}, {"example", "a1"}}), "a1");
  EXPECT_EQ(example_value(Json{{"type", "string"}, {"enum", {"x", "y"}}}), "x");
  EXPECT_EQ(example_value(Json{{"type", "integer"}, {"minimum", 5}}), 5);
  EXPECT_EQ(example_value(Json{{"type", "string"}, {"minLength", 6}}), "cpx1aa");
  EXPECT_EQ(example_value(Json{{"type", "string"}, {"format", "email"}}), "cpx@example.com");
  const Json object{{"type", "object"},
                    {"required", {"sku"}},
                    {"properties",
                     {{"sku", {{"type", "string"}}},
                      {"qty", {{"type", "integer"}}},
                      {"id", {{"type", "string"}, {"readOnly", true}}}}}};
  EXPECT_EQ(example_value(object), (Json{{"sku", "cpx1"}, {"qty", 1}}));
  EXPECT_EQ(example_value(object, false), (Json{{"sku", "cpx1"}}));
  EXPECT_EQ(example_value(Json{{"type", "array"}, {"items", {{"type", "boolean"}}}}), Json::array({true}));
}

openapi::Operation search_operation() {
  openapi::Operation op;
  op.id = "search";
  op.method = "POST";
  op.path = "/shops/{shop}/search";
  const auto param = [&](std::string name, openapi::ParameterIn in, Json schema, std::vector<Json> examples = {},
                         bool required = true) {
    openapi::Parameter p;
    p.name = std::move(name);
    p.in = in;
    p.required = required;
    p.schema = std::move(schema);
    p.examples = std::move(examples);
    op.parameters.push_back(p);
  };
  param("shop", openapi::ParameterIn::path, Json{{"type", "string"}}, {Json("main")});
  param("q", openapi::ParameterIn::query, Json{{"type", "string"}});
  param("limit", openapi::ParameterIn::query, Json{{"type", "integer"}});
  param("sort", openapi::ParameterIn::query, Json{{"type", "string"}}, {}, false);
  param("mode", openapi::ParameterIn::query, Json{{"type", "string"}, {"enum", {"a", "b"}}});
  openapi::RequestBody body;
  openapi::Media media;
  media.content_type = "application/json";
  media.schema =
      Json{{"type", "object"}, {"properties", {{"note", {{"type", "string"}}}, {"n", {{"type", "integer"}}}}}};
  body.content.push_back(media);
  op.body = body;
  return op;
}

TEST(ValidCase, FillsRequiredParametersAndTheBody) {
  const auto op = search_operation();
  const auto c = valid_case(op);
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.path_params.at("shop"), "main");
  ASSERT_EQ(c.query.size(), 3u);  // q, limit, mode; the optional sort is left out
  EXPECT_EQ(c.query[0].first, "q");
  EXPECT_EQ(c.body_content_type, "application/json");
  EXPECT_EQ(*c.body, (Json{{"note", "cpx1"}, {"n", 1}}));
}

TEST(Inputs, OnlyFreeTextStringsAreInjected) {
  const auto op = search_operation();
  const auto c = valid_case(op);
  const auto inputs = injectable_inputs(op, c);
  std::vector<std::string> names;
  for (const auto& in : inputs) names.push_back(std::string(where_name(in.where)) + "." + in.name);
  // Not the integer, not the enum; the optional sort is included (it is sent when injected).
  EXPECT_EQ(names, (std::vector<std::string>{"path.shop", "query.q", "query.sort", "body.note"}));
  const auto injected = with_input(c, inputs[3], "x'");
  EXPECT_EQ((*injected.body)["note"], "x'");
  EXPECT_FALSE(injected.expect_valid);
  const auto sorted = with_input(c, inputs[2], "x'");
  EXPECT_EQ(sorted.query.back(), (std::pair<std::string, Json>{"sort", "x'"}));
}

TEST(Credentials, VariantsOfABearerToken) {
  openapi::Operation op;
  openapi::Document doc;
  const User alice{"alice", "Authorization", "Bearer demo-alice"};
  const auto variants = credential_variants("Authorization", op, doc, &alice);
  ASSERT_EQ(variants.size(), 4u);
  EXPECT_EQ(variants[0].kind, "no credentials");
  EXPECT_TRUE(variants[0].headers.empty());
  EXPECT_EQ(variants[1].headers[0].second, "Bearer cpx-invalid-0d1e");
  EXPECT_EQ(variants[2].kind, "garbled credentials");
  EXPECT_EQ(variants[2].headers[0].second, "Bearer xemo-alx");
  EXPECT_EQ(variants[3].headers[0].second, "Bearer ");
}

TEST(Credentials, FromTheDocumentsSchemeWithoutUsers) {
  openapi::Document doc;
  openapi::SecurityScheme key;
  key.name = "key";
  key.type = "apiKey";
  key.param_name = "X-Api-Key";
  doc.security_schemes["key"] = key;
  openapi::Operation op;
  op.security = {{"key"}};
  EXPECT_EQ(credential_header(op, doc, {}), "X-Api-Key");
  const auto variants = credential_variants("X-Api-Key", op, doc, nullptr);
  ASSERT_EQ(variants.size(), 3u);  // nothing to garble
  EXPECT_EQ(variants[1].headers[0], (std::pair<std::string, std::string>{"X-Api-Key", "cpx-invalid-0d1e"}));
}

TEST(Edits, TargetMethodAndHeader) {
  EXPECT_EQ(request_target(kGet), "/orders/7?x=1");
  EXPECT_EQ(request_target(with_target(kGet, "/a")), "/a");
  EXPECT_TRUE(with_method(kGet, "POST").starts_with("POST /orders/7?x=1 HTTP/1.1\r\n"));
  EXPECT_EQ(with_header(kGet, "X-A", "1"),
            "GET /orders/7?x=1 HTTP/1.1\r\nX-A: 1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\n\r\n");
}

TEST(Bypass, PathSpellingsAndTrustedHeaders) {
  const auto variants = bypass_variants(kGet, "GET");
  std::vector<std::string> targets;
  for (const auto& v : variants) targets.push_back(v.name + " " + request_target(v.bytes));
  EXPECT_EQ(targets,
            (std::vector<std::string>{
                "/%2e/ prefix /%2e/orders/7?x=1", "double slash //orders/7?x=1", "/./ suffix /orders/7/./?x=1",
                "trailing slash /orders/7/?x=1", "; suffix /orders/7;?x=1", "X-Original-URL /", "X-Rewrite-URL /",
                "X-Forwarded-For: 127.0.0.1 /orders/7?x=1", "X-HTTP-Method-Override /orders/7?x=1"}));
  EXPECT_NE(variants[5].bytes.find("X-Original-URL: /orders/7?x=1\r\n"), std::string::npos);
  ASSERT_TRUE(variants[5].control);
  EXPECT_EQ(request_target(*variants[5].control), "/");
  EXPECT_TRUE(variants[8].bytes.starts_with("POST "));
  EXPECT_NE(variants[8].bytes.find("X-HTTP-Method-Override: GET\r\n"), std::string::npos);
}

}  // namespace
}  // namespace chaosplus::security
