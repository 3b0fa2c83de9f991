// The model read from two small documents: a YAML 3.0 petstore with local references, and a JSON
// 3.1 shop whose references lead into other files.
#include <gtest/gtest.h>

#include <algorithm>

#include "openapi/document.h"

namespace chaosplus::openapi {
namespace {

std::string data(const std::string& name) { return std::string(CHAOSPLUS_SOURCE_DIR) + "/tests/data/openapi/" + name; }

const Parameter* param(const Operation& op, const std::string& name) {
  for (const auto& p : op.parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

class Petstore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = load(data("petstore.yaml"));
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    doc = std::move(loaded).value();
  }
  Document doc;
};

TEST_F(Petstore, ReadsTheDocumentLevel) {
  EXPECT_EQ(doc.openapi_version, "3.0.3");
  EXPECT_EQ(doc.title, "Petstore");
  EXPECT_EQ(doc.servers, (std::vector<std::string>{"http://127.0.0.1:8080/v1", "/relative"}));
  std::vector<std::string> ids;
  for (const auto& op : doc.operations) ids.push_back(op.id);
  // Paths in file order, methods in OpenAPI's order (get, put, post, delete...).
  EXPECT_EQ(ids,
            (std::vector<std::string>{"listPets", "createPet", "getPet", "DELETE /pets/{petId}", "listCategories"}));
  const Operation* get = doc.find("getPet");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->method, "GET");
  EXPECT_EQ(get->path, "/pets/{petId}");
  EXPECT_EQ(get->where.pointer, "/paths/~1pets~1{petId}/get");
  EXPECT_EQ(get->where.line, 81);  // where its first key is
  EXPECT_EQ(get->where.column, 7);
  EXPECT_EQ(doc.find("nope"), nullptr);
}

TEST_F(Petstore, MergesPathLevelParametersTheOperationWins) {
  const Operation& get = *doc.find("getPet");
  ASSERT_EQ(get.parameters.size(), 2u);
  const Parameter* id = param(get, "petId");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->in, ParameterIn::path);
  EXPECT_TRUE(id->required) << "path parameters always are";
  EXPECT_EQ(id->style, "simple");
  EXPECT_FALSE(id->explode);
  EXPECT_EQ(id->schema["format"], "int64");
  const Parameter* version = param(get, "X-Version");
  ASSERT_NE(version, nullptr);
  EXPECT_FALSE(version->required) << "the operation's definition replaced the path item's";
  EXPECT_EQ(version->schema["enum"], Json::array({"v1", "v2"}));
  // The delete has no parameters of its own: it inherits both, the header required.
  const Operation& del = *doc.find("DELETE /pets/{petId}");
  ASSERT_EQ(del.parameters.size(), 2u);
  EXPECT_TRUE(param(del, "X-Version")->required);
}

TEST_F(Petstore, ReadsEveryParameterLocationWithDefaultsAndExamples) {
  const Operation& list = *doc.find("listPets");
  const Parameter* limit = param(list, "limit");
  ASSERT_NE(limit, nullptr);
  EXPECT_EQ(limit->in, ParameterIn::query);
  EXPECT_EQ(limit->style, "form");
  EXPECT_TRUE(limit->explode);
  EXPECT_FALSE(limit->required);
  EXPECT_EQ(limit->examples, std::vector<Json>{10});
  // 3.0 boolean exclusiveMaximum became the number.
  EXPECT_EQ(limit->schema["exclusiveMaximum"], 100);
  EXPECT_FALSE(limit->schema.contains("maximum"));
  EXPECT_EQ(limit->schema["minimum"], 1);
  const Parameter* trace = param(list, "X-Trace-Id");
  ASSERT_NE(trace, nullptr) << "a $ref to components.parameters";
  EXPECT_EQ(trace->in, ParameterIn::header);
  EXPECT_EQ(trace->examples,
            (std::vector<Json>{"3f2504e0-4f89-11d3-9a0c-0305e82c3301", "00000000-0000-0000-0000-000000000000"}));
  const Parameter* session = param(list, "session");
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->in, ParameterIn::cookie);
  EXPECT_EQ(session->style, "form");
}

TEST_F(Petstore, ReadsBodiesJsonAndForm) {
  const Operation& create = *doc.find("createPet");
  ASSERT_TRUE(create.body);
  EXPECT_TRUE(create.body->required);
  ASSERT_EQ(create.body->content.size(), 2u);
  const Media& json = create.body->content[0];
  EXPECT_EQ(json.content_type, "application/json");
  EXPECT_EQ(json.schema["required"], Json::array({"name", "kind"}));
  EXPECT_EQ(json.schema["properties"]["tag"]["type"], Json::array({"string", "null"})) << "nullable";
  EXPECT_FALSE(json.schema["properties"]["tag"].contains("nullable"));
  EXPECT_EQ(json.schema["properties"]["age"]["exclusiveMinimum"], 0);
  EXPECT_FALSE(json.schema["properties"]["age"].contains("minimum"));
  EXPECT_EQ(json.examples, (std::vector<Json>{Json{{"name", "Rex"}, {"kind", "dog"}}}));
  EXPECT_EQ(create.body->content[1].content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(create.body->content[1].schema["properties"]["kind"]["enum"], Json::array({"dog", "cat"}));
}

TEST_F(Petstore, ReadsResponsesHeadersAndInlinesSchemas) {
  const Operation& list = *doc.find("listPets");
  ASSERT_EQ(list.responses.size(), 2u);
  EXPECT_EQ(list.responses[0].status, "200");
  EXPECT_EQ(list.responses[1].status, "default");
  EXPECT_EQ(list.responses[0].headers.at("X-Next"), Json({{"type", "string"}}));
  const Json& items = list.responses[0].content[0].schema["items"];
  ASSERT_TRUE(items.contains("allOf")) << items.dump();
  EXPECT_EQ(items["allOf"][0]["properties"]["kind"]["enum"], Json::array({"dog", "cat"}));
  const Json& owner = items["allOf"][1]["properties"]["owner"];
  EXPECT_EQ(owner["oneOf"][0]["properties"]["email"]["format"], "email");
  EXPECT_EQ(owner["discriminator"]["propertyName"], "kind") << "kept harmlessly";
  EXPECT_EQ(list.responses[1].content[0].content_type, "application/problem+json");
  // The schema's example counts among the media's examples.
  const Operation& get = *doc.find("getPet");
  EXPECT_EQ(get.responses[0].content[0].examples.size(), 1u);
}

TEST_F(Petstore, FindsTheDocumentedResponse) {
  const Operation& create = *doc.find("createPet");
  EXPECT_EQ(create.response_for(201)->status, "201");
  EXPECT_EQ(create.response_for(404)->status, "4XX");
  EXPECT_EQ(create.response_for(500), nullptr);
  const Operation& list = *doc.find("listPets");
  EXPECT_EQ(list.response_for(200)->status, "200");
  EXPECT_EQ(list.response_for(503)->status, "default");
}

TEST_F(Petstore, ReadsSecurity) {
  const Operation& list = *doc.find("listPets");
  EXPECT_TRUE(list.security_declared);
  EXPECT_EQ(list.security, (std::vector<std::vector<std::string>>{{"bearer"}})) << "the document's";
  EXPECT_TRUE(list.needs_credentials());
  const Operation& create = *doc.find("createPet");
  EXPECT_EQ(create.security, (std::vector<std::vector<std::string>>{{"basic"}, {"apiKey", "apiQuery"}}));
  const Operation& get = *doc.find("getPet");
  EXPECT_TRUE(get.security_declared);
  EXPECT_TRUE(get.security.empty()) << "security: [] is explicitly public";
  EXPECT_FALSE(get.needs_credentials());

  ASSERT_EQ(doc.security_schemes.size(), 7u);
  EXPECT_EQ(doc.security_schemes.at("bearer").type, "http");
  EXPECT_EQ(doc.security_schemes.at("bearer").scheme, "bearer");
  EXPECT_EQ(doc.security_schemes.at("basic").scheme, "basic");
  const SecurityScheme& key = doc.security_schemes.at("apiKey");
  EXPECT_EQ(key.param_name, "X-API-Key");
  EXPECT_EQ(key.in, ParameterIn::header);
  EXPECT_EQ(doc.security_schemes.at("apiQuery").in, ParameterIn::query);
  EXPECT_EQ(doc.security_schemes.at("apiCookie").in, ParameterIn::cookie);
  EXPECT_EQ(doc.security_schemes.at("apiCookie").param_name, "sid");
  EXPECT_EQ(doc.security_schemes.at("oauth").type, "oauth2");
  EXPECT_EQ(doc.security_schemes.at("oidc").type, "openIdConnect");
}

TEST_F(Petstore, ReadsLinksByIdAndByReference) {
  const Operation& create = *doc.find("createPet");
  const ResponseSpec& created = *create.response_for(201);
  ASSERT_EQ(created.links.size(), 2u);
  EXPECT_EQ(created.links[0].name, "GetPet");
  EXPECT_EQ(created.links[0].operation_id, "getPet");
  EXPECT_EQ(created.links[0].parameters.at("petId"), "$response.body#/id");
  EXPECT_FALSE(created.links[0].request_body);
  EXPECT_EQ(created.links[1].name, "DeletePet");
  EXPECT_EQ(created.links[1].operation_id, "DELETE /pets/{petId}") << "operationRef resolved";
  EXPECT_EQ(created.links[1].parameters.at("petId"), "$response.header.Location");
  EXPECT_EQ(created.links[1].request_body, "$response.body#/name");
}

TEST_F(Petstore, CutsARecursiveSchemaWithAMarker) {
  const Json& schema = doc.find("listCategories")->responses[0].content[0].schema;
  // The Category schema is expanded twice (itself and one child level), then marked.
  const Json& child = schema["properties"]["children"]["items"];
  EXPECT_EQ(child["required"], Json::array({"name"}));
  const Json& grandchild = child["properties"]["children"]["items"];
  EXPECT_EQ(grandchild, Json({{"x-chaosplus-cycle", true}}));
}

TEST(Shop31, FollowsReferencesIntoOtherFilesRelativeToEachFile) {
  auto loaded = load(data("shop31.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const Document& doc = *loaded;
  EXPECT_EQ(doc.openapi_version, "3.1.0");
  ASSERT_EQ(doc.operations.size(), 2u);
  const Operation* get = doc.find("getItem");
  ASSERT_NE(get, nullptr) << "a path item in another file";
  EXPECT_EQ(get->path, "/items/{id}");
  EXPECT_EQ(get->where.pointer, "/get");
  EXPECT_NE(get->where.file.find("paths/item.yaml"), std::string::npos) << get->where.file;
  ASSERT_EQ(get->parameters.size(), 1u);
  EXPECT_TRUE(get->parameters[0].required);
  const Json& item = get->responses[0].content[0].schema;
  // paths/item.yaml -> ../schemas/item.yaml -> money.json (relative to schemas/).
  EXPECT_EQ(item["properties"]["price"]["exclusiveMaximum"], 1000000);
  // ../shop31.json#/components/schemas/a~0b~1c%25d: pointer escapes and percent-encoding.
  EXPECT_EQ(item["properties"]["escaped"]["const"], "escaped");

  const Operation& create = *doc.find("createOrder");
  const Json& order = create.body->content[0].schema;
  EXPECT_EQ(order["properties"]["items"]["items"]["required"], Json::array({"sku", "quantity"}));
  EXPECT_EQ(order["properties"]["note"]["type"], Json::array({"string", "null"}));
  EXPECT_EQ(order["properties"]["note"]["examples"], Json::array({"leave at the door"}));
  EXPECT_EQ(order["properties"]["status"]["const"], "new");
  EXPECT_EQ(create.body->content[0].examples.size(), 1u);
  // Mutual recursion Node -> Other -> Node: cut too.
  const Json& tree = order["properties"]["tree"];
  EXPECT_EQ(tree["properties"]["a"]["properties"]["b"]["properties"]["a"]["properties"]["b"],
            Json({{"x-chaosplus-cycle", true}}));
  // The link's operationRef into the other file names getItem.
  ASSERT_EQ(create.responses[0].links.size(), 1u);
  EXPECT_EQ(create.responses[0].links[0].operation_id, "getItem");
  EXPECT_FALSE(create.security_declared);
  EXPECT_FALSE(create.needs_credentials());
}

}  // namespace
}  // namespace chaosplus::openapi

namespace chaosplus::openapi {
namespace {

Document loaded(const std::string& text) {
  auto result = load_text(text, "inline.yaml");
  EXPECT_TRUE(result.ok()) << result.error();
  return result.ok() ? std::move(result).value() : Document{};
}

TEST(Model, UndeclaredTemplateParametersAreRequiredTextAndReservedHeadersIgnored) {
  const Document doc = loaded(
      "openapi: 3.0.3\npaths:\n  /a/{x}/b/{y}:\n    parameters:\n      - {name: y, in: path, schema: {type: integer}}\n"
      "    get:\n      parameters:\n        - {name: Accept, in: header, schema: {type: string}}\n"
      "        - {name: authorization, in: header, schema: {type: string}}\n"
      "        - {name: X-Other, in: header, schema: {type: string}}\n      responses: {}\n");
  ASSERT_EQ(doc.operations.size(), 1u);
  const auto& params = doc.operations[0].parameters;
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].name, "y");
  EXPECT_EQ(params[1].name, "X-Other");
  EXPECT_EQ(params[2].name, "x");
  EXPECT_TRUE(params[2].required);
  EXPECT_EQ(params[2].schema, Json({{"type", "string"}}));
}

TEST(Model, ReferenceSiblingsConstrainTooAndYamlNumbersStayNumbers) {
  const Document doc = loaded(
      "openapi: 3.1\npaths:\n  /a:\n    get:\n      responses:\n        200:\n          description: x\n"
      "          content:\n            application/json:\n              schema:\n"
      "                $ref: '#/components/schemas/N'\n                description: ignored\n"
      "                maximum: 9\ncomponents:\n  schemas:\n    N: {type: integer, example: 3}\n");
  ASSERT_EQ(doc.operations.size(), 1u);
  EXPECT_EQ(doc.openapi_version, "3.1");
  const ResponseSpec& ok = doc.operations[0].responses.at(0);
  EXPECT_EQ(ok.status, "200") << "a YAML number key";
  EXPECT_EQ(ok.content[0].schema,
            Json({{"allOf", Json::array({Json{{"type", "integer"}, {"example", 3}}, Json{{"maximum", 9}}})}}));
  EXPECT_EQ(doc.operations[0].id, "GET /a");
}

TEST(Model, ParameterGivenByContentTakesItsSchema) {
  const Document doc = loaded(
      "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      parameters:\n        - name: filter\n          in: query\n"
      "          content:\n            application/json:\n              schema: {type: object}\n"
      "              example: {a: 1}\n      responses: {}\n");
  const Parameter& filter = doc.operations.at(0).parameters.at(0);
  EXPECT_EQ(filter.schema, Json({{"type", "object"}}));
  EXPECT_EQ(filter.examples, std::vector<Json>{Json({{"a", 1}})});
}

TEST(Model, ComponentsOfEveryKindCanBeReferenced) {
  const Document doc = loaded(R"(
openapi: 3.0.3
components:
  securitySchemes:
    token: {$ref: '#/components/securitySchemes/real'}
    real: {type: http, scheme: bearer}
  links:
    Next: {operationId: b, parameters: {n: 1}}
  headers:
    Rate: {schema: {type: integer}}
  responses:
    Ok:
      description: ok
      headers: {X-Rate: {$ref: '#/components/headers/Rate'}}
      links: {next: {$ref: '#/components/links/Next'}}
paths:
  /a:
    get:
      operationId: a
      security: [{token: []}]
      responses: {'200': {$ref: '#/components/responses/Ok'}}
  /b:
    get:
      operationId: b
      responses: {}
)");
  ASSERT_EQ(doc.operations.size(), 2u);
  EXPECT_EQ(doc.security_schemes.at("token").scheme, "bearer");
  const ResponseSpec& ok = doc.operations[0].responses.at(0);
  EXPECT_EQ(ok.headers.at("X-Rate"), Json({{"type", "integer"}}));
  ASSERT_EQ(ok.links.size(), 1u);
  EXPECT_EQ(ok.links[0].operation_id, "b");
  EXPECT_EQ(ok.links[0].parameters.at("n"), "1") << "a constant, written as JSON";
}

TEST(Model, NullableCompositionAndYamlMergeKeys) {
  const Document doc = loaded(R"(
openapi: 3.0.3
x-base: &base
  description: ok
  content:
    application/json:
      schema:
        allOf: [{$ref: '#/components/schemas/Pet'}]
        nullable: true
        example: {name: a}
paths:
  /a:
    get:
      responses:
        '200':
          <<: *base
          description: overridden
components:
  schemas:
    Pet: {type: object, properties: {name: {type: string}}}
)");
  ASSERT_EQ(doc.operations.size(), 1u);
  const ResponseSpec& ok = doc.operations[0].responses.at(0);
  ASSERT_EQ(ok.content.size(), 1u) << "the merged keys";
  const Json& schema = ok.content[0].schema;
  ASSERT_TRUE(schema.contains("anyOf")) << schema.dump();
  EXPECT_EQ(schema["anyOf"][1], Json({{"type", "null"}}));
  EXPECT_EQ(schema["anyOf"][0]["allOf"][0]["type"], "object");
  EXPECT_EQ(schema["example"], Json({{"name", "a"}}));
  ResponseChecker checker(doc);
  EXPECT_EQ(checker.check(doc.operations[0], 200, "application/json", "null"), std::nullopt);
  EXPECT_EQ(checker.check(doc.operations[0], 200, "application/json", R"({"name": "x"})"), std::nullopt);
  EXPECT_TRUE(checker.check(doc.operations[0], 200, "application/json", R"({"name": 5})"));
}

TEST(Model, CycleThroughTwoFilesIsCut) {
  auto doc = load(std::string(CHAOSPLUS_SOURCE_DIR) + "/tests/data/openapi/cycle/api.yaml");
  ASSERT_TRUE(doc.ok()) << doc.error();
  const Json& node = doc->operations.at(0).responses.at(0).content.at(0).schema;
  const Json& inner = node["properties"]["branch"]["items"];
  EXPECT_EQ(inner["properties"]["value"], Json({{"type", "integer"}}));
  EXPECT_EQ(inner["properties"]["branch"]["items"], Json({{"x-chaosplus-cycle", true}}));
  ResponseChecker checker(*doc);
  EXPECT_EQ(checker.check(doc->operations[0], 200, "application/json",
                          R"({"value": 1, "branch": [{"value": 2, "branch": [{"anything": true}]}]})"),
            std::nullopt);
  EXPECT_EQ(checker.check(doc->operations[0], 200, "application/json", R"({"value": 1, "branch": [{"value": "x"}]})"),
            "body does not match the schema of 200 application/json: /branch/0/value: expected integer, found text "
            "'x'");
}

}  // namespace
}  // namespace chaosplus::openapi
