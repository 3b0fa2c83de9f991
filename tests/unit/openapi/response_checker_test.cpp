// Responses checked against what the operation documents: status, content type, JSON body.
#include <gtest/gtest.h>

#include "openapi/document.h"

namespace chaosplus::openapi {
namespace {

class Checker : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = load(std::string(CHAOSPLUS_SOURCE_DIR) + "/tests/data/openapi/petstore.yaml");
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    doc = std::move(loaded).value();
    checker = std::make_unique<ResponseChecker>(doc);
  }
  std::optional<std::string> check(const std::string& id, int status, std::string_view type, std::string_view body) {
    const Operation* op = doc.find(id);
    EXPECT_NE(op, nullptr) << id;
    return checker->check(*op, status, type, body);
  }
  Document doc;
  std::unique_ptr<ResponseChecker> checker;
};

constexpr const char* kPet = R"({"id": 7, "name": "Rex", "kind": "dog", "tag": null, "born": "2020-02-29"})";

TEST_F(Checker, AcceptsWhatIsDocumented) {
  EXPECT_EQ(check("getPet", 200, "application/json", kPet), std::nullopt);
  EXPECT_EQ(check("getPet", 200, "Application/JSON; charset=utf-8", kPet), std::nullopt) << "parameters, case";
  EXPECT_EQ(check("listPets", 200, "application/json", std::string("[") + kPet + "]"), std::nullopt);
  // No content documented for 404: any body.
  EXPECT_EQ(check("getPet", 404, "text/html", "<h1>gone</h1>"), std::nullopt);
  // 204 with an empty body; default catches other statuses.
  EXPECT_EQ(check("DELETE /pets/{petId}", 204, "", ""), std::nullopt);
  EXPECT_EQ(check("listPets", 503, "application/problem+json", R"({"code": 503})"), std::nullopt);
  // A recursive schema checks as deep as it was expanded, then accepts anything.
  EXPECT_EQ(check("listCategories", 200, "application/json",
                  R"({"name": "a", "children": [{"name": "b", "children": [{"whatever": 1}]}]})"),
            std::nullopt);
}

TEST_F(Checker, RefusesAStatusNotDocumented) {
  EXPECT_EQ(check("getPet", 418, "application/json", "{}"), "status 418 is not documented (documented: 200, 404)");
  EXPECT_EQ(check("createPet", 500, "application/json", "{}"), "status 500 is not documented (documented: 201, 4XX)");
}

TEST_F(Checker, RefusesAContentTypeNotDocumented) {
  EXPECT_EQ(check("getPet", 200, "text/html", "<p>"),
            "content type 'text/html' is not documented for 200 (documented: application/json)");
  EXPECT_EQ(check("getPet", 200, "", kPet),
            "content type '(none)' is not documented for 200 (documented: application/json)");
  EXPECT_EQ(check("getPet", 200, "", ""),
            "an empty body without a content type for 200 (documented: application/json)");
}

TEST_F(Checker, RefusesABodyThatIsNotJson) {
  EXPECT_EQ(check("getPet", 200, "application/json", "<html>"), "body of 200 application/json is not JSON");
  EXPECT_EQ(check("getPet", 200, "application/json", ""), "body of 200 application/json is not JSON (it is empty)");
}

TEST_F(Checker, SaysWhereTheBodyDiffersFromTheSchema) {
  EXPECT_EQ(check("listPets", 200, "application/json", R"([{"id": 1, "name": "Rex", "kind": "dog"},
      {"id": "two", "name": "Tom", "kind": "cat"}])"),
            "body does not match the schema of 200 application/json: /1/id: expected integer, found text 'two'");
  EXPECT_EQ(check("getPet", 200, "application/json", R"({"id": 1, "kind": "dog"})"),
            "body does not match the schema of 200 application/json: /: missing required property 'name'");
  const auto enum_error = check("getPet", 200, "application/json", R"({"id": 1, "name": "Rex", "kind": "cow"})");
  ASSERT_TRUE(enum_error);
  EXPECT_TRUE(enum_error->starts_with("body does not match the schema of 200 application/json: /kind: "))
      << *enum_error;
  EXPECT_NE(enum_error->find("found text 'cow'"), std::string::npos) << *enum_error;
  // nullable: a null tag is fine (above); a number is not.
  EXPECT_EQ(check("getPet", 200, "application/json", R"({"id": 1, "name": "Rex", "kind": "dog", "tag": 5})"),
            "body does not match the schema of 200 application/json: /tag: expected string or null, found the "
            "number 5");
  // format: date checked on strings; the int64 format on a number does not break the check.
  const auto date = check("getPet", 200, "application/json", R"({"id": 1, "name": "Rex", "kind": "dog", "born": "x"})");
  EXPECT_EQ(date,
            "body does not match the schema of 200 application/json: /born: expected a date (format date), "
            "found text 'x'");
  // 3.0 exclusiveMinimum: true became a number: age 0 is out.
  const auto age = check("getPet", 200, "application/json", R"({"id": 1, "name": "Rex", "kind": "dog", "age": 0})");
  ASSERT_TRUE(age);
  EXPECT_NE(age->find("/age"), std::string::npos) << *age;
}

TEST_F(Checker, MessagesStayValidUtf8) {
  // 39 ASCII characters and then a two-byte one: the quote of the value must not cut it in half.
  const auto message =
      check("getPet", 200, "application/json",
            R"({"name": "Rex", "kind": "dog", "id": ")" + std::string(39, 'a') + "\u00e9\u00e9" + R"("})");
  ASSERT_TRUE(message);
  EXPECT_NO_THROW((void)Json(*message).dump()) << *message;
  EXPECT_NE(message->find("found text '" + std::string(39, 'a') + "...'"), std::string::npos) << *message;
  const auto header = check("getPet", 200, "text/\xff\x01", "x");
  ASSERT_TRUE(header);
  EXPECT_EQ(*header,
            "content type 'text/?"
            "?' is not documented for 200 (documented: application/json)");
}

TEST_F(Checker, ChecksTheSameOperationRepeatedlyFromItsCache) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(check("getPet", 200, "application/json", kPet), std::nullopt);
    EXPECT_TRUE(check("getPet", 200, "application/json", R"({"id": "x"})"));
  }
  // A copy of an operation (not the document's own) is checked the same way.
  for (int i = 0; i < 2; ++i) {
    const Operation copy = *doc.find("getPet");
    EXPECT_EQ(checker->check(copy, 200, "application/json", kPet), std::nullopt);
    EXPECT_TRUE(checker->check(copy, 200, "application/json", R"({"id": "x"})"));
  }
}

TEST_F(Checker, LongStringsAreCheckedWithoutPatterns) {
  // `name` has a pattern; a long value must neither crash std::regex nor pass other checks.
  const std::string name(200000, 'a');
  EXPECT_TRUE(check("listPets", 200, "application/json", R"([{"id": 1, "kind": "dog", "name": ")" + name + R"("}])"))
      << "maxLength still applies";
}

TEST(CheckerSchemas, OddSchemasCompileAndUnknownFormatsPass) {
  auto loaded = load_text(R"({
    "openapi": "3.1.0",
    "paths": {"/x": {"get": {"responses": {"200": {"description": "x", "content": {"*/*": {"schema": {
      "type": ["object", "file"], "description": 5, "title": ["t"], "x-extra": {"$ref": "#/nowhere"},
      "properties": {
        "a": {"type": "string", "format": "made-up", "pattern": "([unclosed"},
        "b": {"type": "integer", "format": "date-time"},
        "c": {"type": "string", "minLength": -1, "required": true}
      },
      "required": ["a", "a"], "maxProperties": 18446744073709551615,
      "patternProperties": {"[": {"type": "string"}}
    }}}}}}}}})",
                          "odd.json");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ResponseChecker checker(*loaded);
  const Operation& op = loaded->operations.at(0);
  EXPECT_EQ(checker.check(op, 200, "application/json", R"({"a": "zz", "b": 5, "c": ""})"), std::nullopt);
  EXPECT_TRUE(checker.check(op, 200, "application/vnd.api+json", R"({"b": 5})")) << "a is required";
  EXPECT_EQ(checker.check(op, 200, "text/plain", "not json, not checked"), std::nullopt) << "*/* matches";
}

TEST(CheckerSchemas, MediaRangesMatchByTypeAndMostSpecificWins) {
  auto loaded = load_text(R"(
openapi: 3.0.3
paths:
  /x:
    get:
      responses:
        '2XX':
          description: x
          content:
            application/*:
              schema: {type: object, required: [wide]}
            application/json:
              schema: {type: object, required: [exact]}
)",
                          "ranges.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ResponseChecker checker(*loaded);
  const Operation& op = loaded->operations.at(0);
  EXPECT_EQ(checker.check(op, 201, "application/json", R"({"exact": 1})"), std::nullopt);
  EXPECT_EQ(checker.check(op, 201, "application/merge-patch+json", R"({"wide": 1})"), std::nullopt);
  EXPECT_EQ(checker.check(op, 200, "application/merge-patch+json", R"({"exact": 1})"),
            "body does not match the schema of 2XX application/*: /: missing required property 'wide'");
  EXPECT_EQ(checker.check(op, 200, "text/plain", "x"),
            "content type 'text/plain' is not documented for 2XX (documented: application/*, application/json)");
  EXPECT_EQ(checker.check(op, 302, "", ""), "status 302 is not documented (documented: 2XX)");
}

}  // namespace
}  // namespace chaosplus::openapi
