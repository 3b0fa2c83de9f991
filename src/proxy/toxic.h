#pragma once
// What a toxic is, as the control API describes it: Toxiproxy's types, names and attributes,
// validated once here so that the data plane only ever sees settings that make sense.
//
// Besides Toxiproxy's seven byte-level toxics there are three HTTP/1.1 toxics (http_status,
// http_delay, http_abort). They act on requests, so they attach to the upstream stream (the one
// requests travel), and their toxicity is drawn per matching request, not once per connection.
#include <concepts>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace chaosplus::proxy {

enum class ToxicType {
  latency,
  bandwidth,
  timeout,
  reset_peer,
  slow_close,
  limit_data,
  slicer,
  http_status,  // answer matching requests with a chosen status and body instead of the server
  http_delay,   // hold matching requests for a while before they go to the server
  http_abort,   // cut the response to matching requests after some bytes of its body
};
// upstream: client -> server bytes; downstream: server -> client bytes (Toxiproxy's words).
enum class Stream { upstream, downstream };

std::string_view to_string(ToxicType type);
std::string_view to_string(Stream stream);
std::optional<ToxicType> parse_toxic_type(std::string_view text);
// The HTTP toxics act in a connection's HTTP session rather than as a stage of one direction.
bool is_http(ToxicType type);
std::optional<Stream> parse_stream(std::string_view text);
// "latency, bandwidth, ..." for error messages.
std::string toxic_type_list();

namespace detail {
template <typename T>
concept WholeNumber = std::integral<T> && !std::same_as<T, bool>;
}

// One attribute: a whole number (every Toxiproxy toxic; ms, KB/s, bytes) or text (the HTTP
// toxics' method, path and body). Toxiproxy clients send attributes as arbitrary JSON, so text
// values travel through them unchanged.
class AttributeValue {
 public:
  AttributeValue() = default;
  template <detail::WholeNumber T>
  AttributeValue(T number) : value_(static_cast<std::int64_t>(number)) {}  // NOLINT: implicit, like a number
  AttributeValue(std::string text) : value_(std::move(text)) {}            // NOLINT
  AttributeValue(const char* text) : value_(std::string(text)) {}          // NOLINT

  bool is_number() const { return std::holds_alternative<std::int64_t>(value_); }
  bool is_text() const { return !is_number(); }
  std::int64_t number() const;      // 0 for text
  const std::string& text() const;  // "" for a number
  bool operator==(const AttributeValue&) const = default;

 private:
  std::variant<std::int64_t, std::string> value_;
};

std::ostream& operator<<(std::ostream& out, const AttributeValue& value);

using Attributes = std::map<std::string, AttributeValue>;

// A toxic's settings. Attributes always hold every attribute of the type (defaults filled in).
struct ToxicSpec {
  std::string name;
  ToxicType type = ToxicType::latency;
  Stream stream = Stream::downstream;
  double toxicity = 1.0;
  Attributes attributes;

  std::int64_t attribute(const std::string& key) const;   // 0 if absent or text
  const std::string& text(const std::string& key) const;  // "" if absent or a number
  bool operator==(const ToxicSpec&) const = default;
};

// A toxic as a request describes it; absent fields take Toxiproxy's defaults (the HTTP toxics'
// stream defaults to upstream).
struct ToxicDraft {
  std::optional<std::string> name;
  std::string type;
  std::optional<std::string> stream;
  std::optional<double> toxicity;
  Attributes attributes;
};

// Checks a draft: known type and stream, toxicity in [0, 1], the type's required attributes
// present, none unknown, every value of the right kind (number or text) and within its range.
// Errors name the field and the rule.
Result<ToxicSpec> make_toxic(const ToxicDraft& draft);

// Applies a partial update (new toxicity and/or some attributes) to an existing toxic, with the
// same checks as make_toxic.
Result<ToxicSpec> update_toxic(const ToxicSpec& current, std::optional<double> toxicity, const Attributes& attributes);

// Proxy and toxic names travel in URL paths: 1-128 characters of [A-Za-z0-9_.-].
// `what` names the field in the message ("proxy name", "toxic name").
Status check_name(std::string_view what, std::string_view name);

}  // namespace chaosplus::proxy
