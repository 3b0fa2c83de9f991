#pragma once
// One generated request in structured form, before it is written as bytes: which operation, the
// value of every parameter and the body. The generators make these, the minimizer shrinks them, and
// render() turns one into the exact bytes the sender writes. A raw protocol mutation has no
// structure left: it carries its bytes in `raw`.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "net/url.h"
#include "openapi/document.h"

namespace chaosplus::fuzz {

using Json = nlohmann::json;

struct RequestCase {
  std::string operation_id;  // openapi::Operation::id; empty for raw protocol requests
  std::string method;        // upper case
  std::string path;          // the path template: "/orders/{id}"
  std::map<std::string, Json> path_params;
  std::vector<std::pair<std::string, Json>> query;           // in order; a name may repeat
  std::vector<std::pair<std::string, std::string>> headers;  // besides Host, Content-Length and credentials
  std::map<std::string, Json> cookies;
  std::optional<Json> body;             // a JSON value, or an object of form fields
  std::string body_content_type;        // "application/json", "application/x-www-form-urlencoded"
  std::optional<std::string> raw_body;  // bytes sent as the body instead of `body` (byte-level mutation)
  std::optional<std::string> raw;       // the whole request as bytes (protocol mutations): render() returns it as is
  bool expect_valid = true;             // made to conform to the document (false: a negative case)
  std::string mutation;  // what makes it invalid, for findings: "body.sku: integer where string expected"
};

// The exact HTTP/1.1 bytes: request line with the path parameters and query percent-encoded (values
// of non-string types written as JSON text, strings as themselves), Host from `base`, the case's
// headers, `extra_headers` (credentials), cookies in one Cookie header, the body with its
// Content-Type and Content-Length. `base.target`'s path is prefixed to the path (a base URL of
// "http://127.0.0.1:8080/api" sends "/api/orders/1").
std::string render(const RequestCase& request, const net::Url& base,
                   const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

// A curl command that sends the same request (for a finding's reproducer); raw requests are given
// as a printf piped to a TCP connection instead, since curl cannot send malformed framing.
std::string to_curl(const RequestCase& request, const net::Url& base,
                    const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

// The case as JSON (for a findings file, and for `chaosplus replay`), and back.
Json to_json(const RequestCase& request);
Result<RequestCase> request_case_from_json(const Json& json);

}  // namespace chaosplus::fuzz
