#pragma once
// Requests for one OpenAPI operation: conforming ones (every required parameter, optional ones
// some of the time, a body in one of the documented media types) and negative ones (one defect
// each, named in RequestCase::mutation). Credentials are not added here: the engine passes them to
// render() as extra headers.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/request_case.h"
#include "fuzz/rng.h"
#include "fuzz/values.h"
#include "openapi/document.h"

namespace chaosplus::fuzz {

// Where a value goes, for a ValueSource: a parameter (`in` = "path", "query", "header", "cookie")
// or a top-level body property (`in` = "body", `name` = the property).
struct ValueSlot {
  std::string name;
  std::string in;
  const Json* schema = nullptr;  // never null when a ValueSource is called
};

// The stateful hook: values the engine has seen (ids in earlier responses, Location headers, link
// targets). Asked for every path parameter (its answer is always used), and for other parameters and
// top-level body properties (used about half of the time, so that generated values still appear).
// Return nullopt to let the generator make one. Must be deterministic for a given Rng state.
using ValueSource = std::function<std::optional<Json>(const ValueSlot&, Rng&)>;

// A ready ValueSource: values remembered by name. A name matches ignoring case and '_', '-' and
// '.' ("order_id" = "orderId" = "OrderID"). Which names an id is offered under (its property,
// "<resource>Id", a link's parameter) is the engine's choice.
class ValuePool {
 public:
  explicit ValuePool(std::size_t per_name = 32) : per_name_(per_name) {}
  // Remembers `value` under `name`; the oldest value goes when a name holds `per_name` of them.
  void offer(const std::string& name, Json value);
  // Forgets `value` under every name (a deleted resource), so that it is not used as if it lived.
  void forget(const Json& value);
  std::optional<Json> pick(const std::string& name, Rng& rng) const;
  bool empty() const { return values_.empty(); }
  // A ValueSource that picks from this pool (which must outlive it).
  ValueSource source() const;

 private:
  std::size_t per_name_;
  std::map<std::string, std::vector<Json>> values_;  // by normalized name, oldest first
};

// A conforming request. The body (when the operation has one: always if required, else most of the
// time) uses one of the documented media types the generator can write: JSON (any "json" type),
// application/x-www-form-urlencoded, multipart/form-data, text/plain.
RequestCase valid_case(const openapi::Operation& operation, Rng& rng, const ValueSource& source = {},
                       const ValueLimits& limits = {});

// A request with one defect (an edge value in one parameter or body field, a missing required
// parameter or property, an extra property, a wrong or missing Content-Type, malformed JSON...).
// `expect_valid` is false and `mutation` says what is wrong ("query.limit: -1 below minimum 0");
// when the chosen edge is hostile but conforming (a naughty string in a free-form field),
// `expect_valid` stays true and `mutation` still names it.
RequestCase invalid_case(const openapi::Operation& operation, Rng& rng, const ValueSource& source = {},
                         const ValueLimits& limits = {});

}  // namespace chaosplus::fuzz
