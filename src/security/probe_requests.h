#pragma once
// The requests the security probes send, made from an operation of the OpenAPI document: a valid
// case (examples first, then the simplest value of each schema), the credential variants an
// operation that needs credentials must refuse, the bypass variants of a refused request, and the
// injection payloads. Edits of rendered request bytes (target, headers) live here too.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "fuzz/request_case.h"
#include "openapi/document.h"

namespace chaosplus::security {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A user whose credentials the probes use: `--user alice='Authorization: Bearer x'`.
struct User {
  std::string name;
  std::string header;  // "Authorization"
  std::string value;   // "Bearer x"
};
// "alice=Authorization: Bearer x"; errors say what was expected.
Result<User> parse_user(std::string_view text);

// The simplest value a schema accepts: its example, default, first enum value or const, else one
// made from its type, format and bounds (an object with its required properties and, for
// `all_properties`, every other one too).
fuzz::Json example_value(const fuzz::Json& schema, bool all_properties = true, int depth = 0);

// A request the document says is valid: every required parameter and the body (JSON or form), with
// example values. Optional query parameters are left out; the string ones can be injected through
// `injectable_inputs`.
fuzz::RequestCase valid_case(const openapi::Operation& operation);

// An input of a request the injection probes may change: a parameter or a top-level body field of
// type string.
struct Input {
  enum class Where { path, query, header, cookie, body } where = Where::query;
  std::string name;
  std::string original;  // the value of the valid case (or an example)
};
std::string_view where_name(Input::Where where);
std::vector<Input> injectable_inputs(const openapi::Operation& operation, const fuzz::RequestCase& valid);
// The case with `input` set to `value`.
fuzz::RequestCase with_input(const fuzz::RequestCase& request, const Input& input, const std::string& value);

// A credential the probes send in place of a user's: none, a made-up one, the user's own token
// garbled (truncated and altered), an empty bearer.
struct CredentialVariant {
  std::string kind;  // "no credentials", "invalid credentials", "garbled credentials", "empty credentials"
  Headers headers;   // what to send instead of the valid credentials
};
// The header the operation's security schemes name ("Authorization" for http schemes, an apiKey's
// header), or the first user's header when they give one.
std::string credential_header(const openapi::Operation& operation, const openapi::Document& document,
                              const std::vector<User>& users);
std::vector<CredentialVariant> credential_variants(const std::string& header, const openapi::Operation& operation,
                                                   const openapi::Document& document, const User* user);

// A refused request retried another way: a path spelling a router may map differently, or a header
// some proxies and frameworks trust.
struct BypassVariant {
  std::string name;   // "/%2e/ prefix", "X-Original-URL", ...
  std::string bytes;  // the variant
  // For X-Original-URL and X-Rewrite-URL, the request for "/" without the header: when that one is
  // 2xx on its own, the variant proves nothing.
  std::optional<std::string> control;
};
std::vector<BypassVariant> bypass_variants(std::string_view bytes, std::string_view method);

// Edits of a rendered request. The target of its request line, and the same with another target.
std::string request_target(std::string_view bytes);
std::string with_target(std::string_view bytes, std::string_view target);
std::string with_method(std::string_view bytes, std::string_view method);
// Adds a header right after the request line.
std::string with_header(std::string_view bytes, std::string_view name, std::string_view value);

}  // namespace chaosplus::security
