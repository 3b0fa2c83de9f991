// A document that cannot be used is an error naming the file, line:column, the JSON pointer and
// what was expected.
#include <gtest/gtest.h>

#include "openapi/document.h"

namespace chaosplus::openapi {
namespace {

std::string error_of(const std::string& text, const std::string& file = "api.yaml") {
  auto loaded = load_text(text, file);
  if (loaded.ok()) return "(loaded)";
  return loaded.error();
}

TEST(LoadErrors, SwaggerTwoIsRefusedClearly) {
  EXPECT_EQ(error_of("swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n"),
            "api.yaml:1:10: /swagger: Swagger 2.0 is not supported, convert to OpenAPI 3 (for example with "
            "swagger2openapi) first");
}

TEST(LoadErrors, OpenapiMissingOrNotThree) {
  EXPECT_EQ(error_of("info: {title: x}\npaths: {}\n"),
            "api.yaml:1:1: /: missing 'openapi', expected an OpenAPI 3.0 or 3.1 document ('openapi: 3.0.3')");
  EXPECT_EQ(error_of("openapi: 4.0.0\npaths: {}\n"),
            "api.yaml:1:10: /openapi: found text '4.0.0', expected an OpenAPI version 3.0.x or 3.1.x");
}

TEST(LoadErrors, PathsEntryThatIsNotAnObject) {
  EXPECT_EQ(error_of("openapi: 3.0.3\npaths:\n  /orders:\n    - get\n"),
            "api.yaml:4:5: /paths/~1orders: found a list, expected a path item (an object of operations)");
  EXPECT_EQ(error_of("openapi: 3.0.3\npaths:\n  /orders:\n    get:\n      responses: [1]\n"),
            "api.yaml:5:18: /paths/~1orders/get/responses: found a list, expected a map of status codes to responses");
}

TEST(LoadErrors, UnknownParameterLocation) {
  EXPECT_EQ(error_of("openapi: 3.0.3\npaths:\n  /a:\n    get:\n      parameters:\n        - name: q\n"
                     "          in: body\n      responses: {}\n"),
            "api.yaml:7:15: /paths/~1a/get/parameters/0/in: found 'body', expected path, query, header or cookie");
}

TEST(LoadErrors, ReferenceThatPointsNowhere) {
  EXPECT_EQ(error_of("openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n"
                     "          description: ok\n          content:\n            application/json:\n"
                     "              schema:\n                $ref: '#/components/schemas/Missing'\n"),
            "api.yaml:11:23: /paths/~1a/get/responses/200/content/application~1json/schema/$ref: "
            "'#/components/schemas/Missing' points nowhere: no 'components' in /, expected an existing part of the "
            "document");
}

TEST(LoadErrors, FileReferenceThatCannotBeRead) {
  const std::string file = std::string(CHAOSPLUS_SOURCE_DIR) + "/tests/data/openapi/inline.yaml";
  const std::string error = error_of("openapi: 3.0.3\npaths:\n  /a:\n    $ref: 'missing/path.yaml'\n", file);
  EXPECT_EQ(error, file + ":4:11: /paths/~1a/$ref: cannot read '" + std::string(CHAOSPLUS_SOURCE_DIR) +
                       "/tests/data/openapi/missing/path.yaml' (No such file or directory), expected a readable file");
}

TEST(LoadErrors, ErrorInAReferencedFileNamesThatFile) {
  const std::string dir = std::string(CHAOSPLUS_SOURCE_DIR) + "/tests/data/openapi/";
  const std::string error =
      error_of("openapi: 3.1.0\npaths:\n  /a:\n    $ref: 'broken/path.yaml'\n", dir + "inline.yaml");
  EXPECT_NE(error.find(dir + "broken/path.yaml:5:11: /get/parameters/0/in: found 'body'"), std::string::npos) << error;
}

TEST(LoadErrors, JsonErrorsHaveLinesToo) {
  EXPECT_EQ(error_of("{\n  \"openapi\": \"3.1.0\",\n  \"paths\": {\"/a\": 5}\n}\n", "api.json"),
            "api.json:3:19: /paths/~1a: found the number 5, expected a path item (an object of operations)");
  const std::string syntax = error_of("{\n  \"openapi\": \"3.1.0\",\n  \"paths\": {,}\n}\n", "api.json");
  EXPECT_TRUE(syntax.starts_with("api.json:3:13: invalid JSON: ")) << syntax;
}

TEST(LoadErrors, InvalidYamlHasItsPlace) {
  const std::string error = error_of("openapi: 3.0.3\npaths:\n  /a: [1, 2\n");
  EXPECT_TRUE(error.starts_with("api.yaml:4:1: invalid YAML: ")) << error;
}

TEST(LoadErrors, UnknownSecuritySchemeAndBadApiKeyPlace) {
  const std::string error = error_of(
      "openapi: 3.0.3\nsecurity:\n  - nope: []\npaths: {}\ncomponents:\n  securitySchemes:\n    k:\n"
      "      type: apiKey\n      name: key\n      in: path\n");
  EXPECT_EQ(error,
            "api.yaml:10:11: /components/securitySchemes/k/in: found 'path', expected header, query or cookie\n"
            "api.yaml:3:11: /security/0/nope: names the security scheme 'nope', expected one that "
            "components.securitySchemes defines");
}

TEST(LoadErrors, BadStatusKeyAndDuplicateOperationId) {
  const std::string error = error_of(
      "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      operationId: same\n      responses:\n        '2000':\n"
      "          description: x\n  /b:\n    get:\n      operationId: same\n      responses: {}\n");
  EXPECT_EQ(error,
            "api.yaml:8:11: /paths/~1a/get/responses/2000: found the status '2000', expected a code such as 200, a "
            "range such as 4XX, or default\n"
            "api.yaml:11:20: /paths/~1b/get/operationId: the operationId 'same' is also used at /paths/~1a/get, "
            "expected each operation to have its own");
}

TEST(LoadErrors, ReferenceLoopIsAnErrorNotAHang) {
  const std::string error = error_of(
      "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      parameters:\n        - $ref: '#/components/parameters/A'\n"
      "      responses: {}\ncomponents:\n  parameters:\n    A:\n      $ref: '#/components/parameters/B'\n"
      "    B:\n      $ref: '#/components/parameters/A'\n");
  EXPECT_EQ(error,
            "api.yaml:6:17: /paths/~1a/get/parameters/0/$ref: the reference '#/components/parameters/A' leads back to "
            "itself, expected it to end at a value");
}

TEST(LoadErrors, RemoteReferencesAreRefused) {
  const std::string error =
      error_of("openapi: 3.0.3\npaths:\n  /a:\n    $ref: 'https://example.com/api.yaml#/paths/~1a'\n");
  EXPECT_EQ(error,
            "api.yaml:4:11: /paths/~1a/$ref: 'https://example.com/api.yaml#/paths/~1a' is a remote reference, "
            "expected a local one ('#/...') or a relative file");
}

TEST(LoadErrors, TextThatIsNotUtf8) {
  // nlohmann would throw when such a value is written out (a finding, a report): refused here.
  EXPECT_EQ(error_of("openapi: 3.0.3\npaths:\n  /a:\n    get:\n      summary: \"\xff\xfe\"\n      responses: {}\n"),
            "api.yaml:5:16: /paths/~1a/get/summary: found text that is not valid UTF-8, expected UTF-8 text");
  EXPECT_TRUE(error_of("{\"openapi\": \"3.1.0\", \"x\": \"\xc3\"}", "api.json").starts_with("api.json:1:"))
      << "JSON too";
}

TEST(LoadErrors, DuplicateKeysInJsonAndYaml) {
  EXPECT_EQ(error_of("{\"openapi\": \"3.1.0\",\n \"paths\": {\"/a\": {}, \"/a\": {}}}", "api.json"),
            "api.json:2:28: /paths/~1a: duplicate key '/a', expected each key once in an object");
  EXPECT_EQ(error_of("openapi: 3.0.3\npaths:\n  /a: {}\n  /a: {}\n"),
            "api.yaml:4:3: /paths/~1a: duplicate key '/a', expected each key once in a map");
}

}  // namespace
}  // namespace chaosplus::openapi
