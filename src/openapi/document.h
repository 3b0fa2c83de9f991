#pragma once
// An OpenAPI 3.0 or 3.1 document (JSON or YAML) read into what the fuzzer and the security probes
// need: its operations with their parameters, bodies, documented responses, links and security
// requirements, and its security schemes. Every `$ref` (local "#/..." and relative files
// "other.yaml#/...") is resolved at load time; schemas are handed out as plain JSON Schema with
// their references inlined (a reference cycle is cut at a fixed depth and marked
// "x-chaosplus-cycle": true), and the OpenAPI 3.0 dialect turned into JSON Schema
// (`nullable: true` -> a "null" type, `exclusiveMinimum: true` -> a number) so that valijson and the
// generators read one dialect. A document that cannot be used is an error naming the file, the line
// and column where known, the JSON pointer, and what was expected, as `chaosplus validate` does:
//   "api.yaml:14:7: paths./orders.get.responses: expected an object, got a list".
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace chaosplus::openapi {

using Json = nlohmann::json;

// Where a part of the document is: for messages and for finding locations (SARIF).
struct Location {
  std::string file;
  std::string pointer;  // JSON pointer inside `file`: "/paths/~1orders/get"
  int line = 0;         // 1-based; 0 when not known
  int column = 0;
};

enum class ParameterIn { path, query, header, cookie };

struct Parameter {
  std::string name;
  ParameterIn in = ParameterIn::query;
  bool required = false;  // path parameters always are
  Json schema = Json::object();
  std::vector<Json> examples;  // `example` and the values of `examples` (parameter's, then schema's)
  std::string style;           // as written, or the default for `in` ("simple", "form")
  bool explode = false;
};

// One media type of a request body or a response: "application/json", "application/x-www-form-urlencoded".
struct Media {
  std::string content_type;
  Json schema = Json::object();
  std::vector<Json> examples;
};

struct RequestBody {
  bool required = false;
  std::vector<Media> content;
};

// An OpenAPI link: values of a response feed a later operation's parameters.
struct Link {
  std::string name;
  std::string operation_id;  // resolved from operationRef too
  // parameter name -> runtime expression ("$response.body#/id", "$response.header.Location").
  std::map<std::string, std::string> parameters;
  std::optional<std::string> request_body;  // runtime expression, when given
};

struct ResponseSpec {
  std::string status;  // "200", "2XX", "default"
  std::vector<Media> content;
  std::map<std::string, Json> headers;  // header name -> its schema
  std::vector<Link> links;
};

struct SecurityScheme {
  std::string name;                      // its key under components.securitySchemes
  std::string type;                      // "http", "apiKey", "oauth2", "openIdConnect", "mutualTLS"
  std::string scheme;                    // http: "bearer", "basic"
  std::string param_name;                // apiKey: the header, query or cookie name
  ParameterIn in = ParameterIn::header;  // apiKey
};

struct Operation {
  std::string id;                     // operationId, or "<METHOD> <path>" when the document gives none
  std::string method;                 // upper case: "GET"
  std::string path;                   // the template: "/orders/{id}"
  std::vector<Parameter> parameters;  // path-level and operation-level, merged (operation wins)
  std::optional<RequestBody> body;
  std::vector<ResponseSpec> responses;
  // Alternatives, each a set of scheme names that together satisfy it (OpenAPI's `security`).
  // Empty with security_declared true: explicitly public (`security: []`).
  std::vector<std::vector<std::string>> security;
  bool security_declared = false;  // the operation or the document gives `security`
  std::vector<std::string> tags;
  Location where;

  // The documented response for `status`: exact code, then "4XX"-style range, then "default".
  const ResponseSpec* response_for(int status) const;
  bool needs_credentials() const;  // some alternative names at least one scheme
};

struct Document {
  std::string file;
  std::string openapi_version;  // "3.0.3", "3.1.0"
  std::string title;
  std::vector<std::string> servers;   // server URLs as written
  std::vector<Operation> operations;  // in document order (paths, then methods in a fixed order)
  std::map<std::string, SecurityScheme> security_schemes;

  const Operation* find(const std::string& operation_id) const;
};

// Reads the file (JSON or YAML, by content), resolves references, and checks what the fuzzer needs.
Result<Document> load(const std::string& path);
// The same from text; `file` names it in messages and is where relative references are resolved from.
Result<Document> load_text(const std::string& text, const std::string& file);

// Checks a response against what the operation documents: a status no response (nor "default")
// documents, a content type not documented for it, or a JSON body that fails the documented schema
// (valijson). Empty when it matches; otherwise what differs, for a finding:
//   "status 418 is not documented (documented: 200, 404)"
//   "body does not match the schema of 200 application/json: /items/0/price: expected number".
// Compiled schemas are cached; safe to call from one thread at a time per ResponseChecker.
class ResponseChecker {
 public:
  explicit ResponseChecker(const Document& document);
  ~ResponseChecker();
  ResponseChecker(const ResponseChecker&) = delete;
  ResponseChecker& operator=(const ResponseChecker&) = delete;

  std::optional<std::string> check(const Operation& operation, int status, std::string_view content_type,
                                   std::string_view body);

 private:
  struct Cache;
  const Document& document_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace chaosplus::openapi
