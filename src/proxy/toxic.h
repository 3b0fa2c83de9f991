#pragma once
// What a toxic is, as the control API describes it: Toxiproxy's types, names and attributes,
// validated once here so that the data plane only ever sees settings that make sense.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace chaosplus::proxy {

enum class ToxicType { latency, bandwidth, timeout, reset_peer, slow_close, limit_data, slicer };
// upstream: client -> server bytes; downstream: server -> client bytes (Toxiproxy's words).
enum class Stream { upstream, downstream };

std::string_view to_string(ToxicType type);
std::string_view to_string(Stream stream);
std::optional<ToxicType> parse_toxic_type(std::string_view text);
std::optional<Stream> parse_stream(std::string_view text);
// "latency, bandwidth, ..." for error messages.
std::string toxic_type_list();

using Attributes = std::map<std::string, std::int64_t>;

// A toxic's settings. Attributes always hold every attribute of the type (defaults filled in).
struct ToxicSpec {
  std::string name;
  ToxicType type = ToxicType::latency;
  Stream stream = Stream::downstream;
  double toxicity = 1.0;
  Attributes attributes;

  std::int64_t attribute(const std::string& key) const;  // 0 if absent
  bool operator==(const ToxicSpec&) const = default;
};

// A toxic as a request describes it; absent fields take Toxiproxy's defaults.
struct ToxicDraft {
  std::optional<std::string> name;
  std::string type;
  std::optional<std::string> stream;
  std::optional<double> toxicity;
  Attributes attributes;
};

// Checks a draft: known type and stream, toxicity in [0, 1], the type's required attributes
// present, none unknown, every value within its range. Errors name the field and the rule.
Result<ToxicSpec> make_toxic(const ToxicDraft& draft);

// Applies a partial update (new toxicity and/or some attributes) to an existing toxic, with the
// same checks as make_toxic.
Result<ToxicSpec> update_toxic(const ToxicSpec& current, std::optional<double> toxicity, const Attributes& attributes);

// Proxy and toxic names travel in URL paths: 1-128 characters of [A-Za-z0-9_.-].
// `what` names the field in the message ("proxy name", "toxic name").
Status check_name(std::string_view what, std::string_view name);

}  // namespace chaosplus::proxy
