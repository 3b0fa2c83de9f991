#pragma once
// Operations built by hand, as openapi::load would hand them out, for the generator tests.
#include "openapi/document.h"

namespace chaosplus::fuzz::testing {

inline openapi::Parameter parameter(const std::string& name, openapi::ParameterIn in, bool required, const char* schema,
                                    std::string style = "form", bool explode = true) {
  openapi::Parameter p;
  p.name = name;
  p.in = in;
  p.required = required;
  p.schema = nlohmann::json::parse(schema);
  p.style = std::move(style);
  p.explode = explode;
  return p;
}

inline const char* order_schema() {
  return R"({"type":"object","required":["sku","qty"],"additionalProperties":false,
             "properties":{"sku":{"type":"string","pattern":"^SKU[0-9]{4}$"},
                           "qty":{"type":"integer","minimum":1,"maximum":99},
                           "note":{"type":["string","null"],"maxLength":20},
                           "lines":{"type":"array","maxItems":3,"items":{"type":"object","required":["n"],
                                    "properties":{"n":{"type":"integer","minimum":0}}}}}})";
}

inline openapi::Operation create_order() {
  using In = openapi::ParameterIn;
  openapi::Operation op;
  op.id = "createOrder";
  op.method = "POST";
  op.path = "/shops/{shopId}/orders";
  op.parameters = {
      parameter("shopId", In::path, true, R"({"type":"integer","minimum":1,"maximum":1000})", "simple", false),
      parameter("limit", In::query, true, R"({"type":"integer","minimum":1,"maximum":100})"),
      parameter("tags", In::query, false, R"({"type":"array","items":{"type":"string","enum":["a","b","c"]}})", "form",
                false),
      parameter("X-Request-Id", In::header, false, R"({"type":"string","format":"uuid"})", "simple", false),
      parameter("Content-Type", In::header, false, R"({"type":"string"})", "simple", false),
      parameter("session", In::cookie, false, R"({"type":"string","minLength":8,"maxLength":16})", "form", true),
  };
  openapi::RequestBody body;
  body.required = true;
  openapi::Media json;
  json.content_type = "application/json";
  json.schema = nlohmann::json::parse(order_schema());
  openapi::Media form;
  form.content_type = "application/x-www-form-urlencoded";
  form.schema = nlohmann::json::parse(R"({"type":"object","required":["sku"],"properties":{"sku":{"type":"string"}}})");
  body.content = {json, form};
  op.body = body;
  return op;
}

inline openapi::Operation get_item() {
  openapi::Operation op;
  op.id = "getItem";
  op.method = "GET";
  op.path = "/items/{item_id}";
  op.parameters = {
      parameter("item_id", openapi::ParameterIn::path, true, R"({"type":"string","format":"uuid"})", "simple", false)};
  return op;
}

inline openapi::Operation ping() {
  openapi::Operation op;
  op.id = "ping";
  op.method = "GET";
  op.path = "/ping";
  return op;
}

}  // namespace chaosplus::fuzz::testing
