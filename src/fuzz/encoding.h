#pragma once
// Byte-level text helpers the request case, the generators and the mutators share: UTF-8 checks,
// percent-encoding per RFC 3986 / form rules, base64 (for bytes that are not text in JSON files),
// and a JSON writer that can carry what nlohmann's strict writer refuses (lone surrogates, invalid
// UTF-8), because a fuzzer must be able to send exactly those.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace chaosplus::fuzz {

bool valid_utf8(std::string_view text);

enum class PercentMode {
  path_segment,  // RFC 3986 pchar kept: unreserved, sub-delims, ':' and '@'; '/' and the rest encoded
  query,         // only unreserved kept (OpenAPI allowReserved: false); space as %20
  form,          // application/x-www-form-urlencoded: only unreserved kept, space as '+'
  cookie,        // RFC 6265 cookie-octets kept except '%'; the rest encoded
};
std::string percent_encode(std::string_view text, PercentMode mode);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// Compact JSON text. Strings are written byte for byte where they are valid UTF-8; a surrogate
// code point stored WTF-8 style (ED A0..BF xx: what values.h makes for a "lone surrogate") is written
// as its \uD8xx escape; any other invalid byte is written raw. Objects in key order (std::map).
std::string json_text(const nlohmann::json& value);
// A parameter value as text: a string as itself, anything else as JSON text.
std::string scalar_text(const nlohmann::json& value);

// The UTF-8 (WTF-8 for surrogates) bytes of a code point up to 0x10FFFF, surrogates included.
std::string code_point_bytes(std::uint32_t code_point);

// Whether `value` (all of its strings and keys) can be written by nlohmann's strict dump.
bool strict_json(const nlohmann::json& value);

}  // namespace chaosplus::fuzz
