#pragma once
// Stateful fuzzing's memory (the engine's, richer than generator.h's ValuePool: keys by resource,
// and the request that made each value, for reproducers): values the target produced (ids in bodies, `Location`
// headers, OpenAPI links) kept by what they name, so later requests use real resources instead of random ids and get
// past the 404 into the code behind it. Keys name a resource's id ("order.id": the body field `id` of POST /orders,
// `orderId` anywhere, the `{id}` of /orders/{id}) or, for other fields, the plain normalized name ("sku").
// Deterministic: the pool changes only when the engine applies feedback, in request order, and draws from the engine's
// Rng.
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/finding.h"
#include "fuzz/generator.h"
#include "fuzz/request_case.h"
#include "fuzz/rng.h"
#include "net/http_message.h"
#include "openapi/document.h"

namespace chaosplus::fuzz {

// "orderId" -> "orderid"; "order_id" -> "orderid".
std::string normalize_name(std::string_view name);
// "orders" -> "order", "categories" -> "category", "addresses" -> "address".
std::string singular(std::string_view word);
// The resource a path is about: its last literal segment, singular ("/orders/{id}/items" -> "item").
std::string resource_of(std::string_view path_template);
// The pool key of a field named `field` in a body about `resource`: id-like names give
// "<resource>.id" ("id", "uuid") or "<name>.id" ("customerId", "customer_id"), others the plain name.
std::string field_key(std::string_view resource, std::string_view field);
// The pool key of path parameter `param` of `path_template`: "/orders/{id}" -> "order.id".
std::string param_key(std::string_view path_template, std::string_view param);

// Where in its producer's answer a value was read, so a reproducer can read the new one at replay
// (finding.h Binding): "header:Location" with the path template and parameter it matched, or
// "body:<JSON pointer>"; source "" when it cannot be read again (a link's constant).
struct Provenance {
  std::string source;
  std::string path_template;
  std::string param;
};

struct HarvestedValue {
  Json value;
  // The request whose answer produced it (a reproducer replays it first); may be null.
  std::shared_ptr<const std::string> producer;
  Provenance from;
};

// A follow-up an OpenAPI link asks for: operation `operation_id` with these parameter values.
struct LinkFollowUp {
  std::string operation_id;
  std::map<std::string, Json> parameters;
};

class Harvest {
 public:
  static constexpr std::size_t kPerKey = 64;  // newest values kept per key

  void add(const std::string& key, Json value, std::shared_ptr<const std::string> producer = nullptr,
           Provenance from = {});
  // A value of `key` drawn with `rng`; null when none is known.
  const HarvestedValue* pick(const std::string& key, Rng& rng) const;
  // Forgets a value (a deleted resource: later requests should not keep hitting it by accident).
  void forget(const std::string& key, const Json& value);
  const HarvestedValue* find(const std::string& key, const Json& value) const;
  std::size_t size() const;  // values kept, over every key

  // Learns from a 2xx answer to `request` of `operation`: id-like and scalar fields of a JSON body
  // (two levels deep, first items of lists), the `Location` header matched against the document's
  // path templates (under `base_path`, the base URL's path), and the operation's links. Returns
  // the follow-ups its links describe.
  std::vector<LinkFollowUp> harvest(const openapi::Document& document, const openapi::Operation& operation,
                                    const RequestCase& request, const net::Response& response,
                                    std::string_view base_path, const std::shared_ptr<const std::string>& producer);

  // The generators' hook (generator.h) for `operation`: a known value for a path parameter (most of
  // the time: a made-up id now and then keeps the not-found path busy too), for a query parameter
  // or an id-like body property of the same name. The harvest must outlive it.
  ValueSource source(const openapi::Operation& operation) const;

  // For a finding on `operation` whose request's path uses values this harvest knows the producer
  // and provenance of: puts each producer first in the finding's setup requests (once; one already
  // there is reused) and binds the value (finding.h Binding), so a replay uses the resource its
  // setup makes instead of one that may be gone.
  void bind(const openapi::Operation& operation, Finding& finding) const;

 private:
  struct Slot {
    std::vector<HarvestedValue> values;
    std::size_t next = 0;  // ring position once full
  };
  void harvest_json(const Json& json, const std::string& resource, int depth,
                    const std::shared_ptr<const std::string>& producer, const std::string& pointer);
  std::map<std::string, Slot> slots_;
  // Values no longer kept (pushed out, forgotten) that a producer made, newest last: a finding's
  // request may have used one before it went (bind()). Only bind() reads it: draws are unchanged.
  // A made-up id may hit an object made long ago (ids are small numbers): keep many (about 200 bytes each).
  static constexpr std::size_t kRemembered = 16384;
  void remember(const std::string& key, HarvestedValue value);
  std::deque<std::pair<std::string, HarvestedValue>> gone_;
  const std::map<std::string, Json>* named_ = nullptr;  // the path values of the request harvest() reads
  std::size_t size_ = 0;
};

// The parameters of `path` if it matches `path_template` ("/orders/42" and "/orders/{id}" ->
// {id: "42"}), percent-decoded; nullopt when it does not match.
std::optional<std::map<std::string, std::string>> match_path(std::string_view path_template, std::string_view path);

// The value of an OpenAPI runtime expression for one exchange ("$response.body#/id",
// "$response.header.Location", "$request.path.id", "$request.query.q", "$statusCode"), or a
// constant; nullopt when the exchange does not have it.
std::optional<Json> evaluate_expression(std::string_view expression, const RequestCase& request,
                                        const net::Response& response);

}  // namespace chaosplus::fuzz
