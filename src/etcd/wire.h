#pragma once
// The JSON gateway's encoding, apart from the transport: keys and values in base64, int64 fields as
// JSON strings (proto3's JSON mapping, which also leaves out fields that are zero), a prefix as the
// range [prefix, prefix+1), and etcd's error answers ({"error","code"} with a gRPC status code)
// sorted into the ones a caller should retry on another member and the ones it should hear.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "etcd/client.h"

namespace chaosplus::etcd::wire {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not base64 (standard alphabet, padded or not).
std::optional<std::string> base64_decode(std::string_view text);

// The end of the range holding every key that starts with `prefix`: the prefix with its last byte
// below 0xff incremented and the rest dropped; "\0" (every key) for an empty or all-0xff prefix, as
// etcd's clients do.
std::string prefix_range_end(std::string_view prefix);

// An int64 field: a JSON string ("42"), a number, or absent (0, as proto3 leaves zero out).
std::int64_t int64_field(const nlohmann::json& object, const char* name);

// One mvccpb.KeyValue of an answer ("kv" of an event, an element of "kvs").
Result<KeyValue> parse_key_value(const nlohmann::json& kv);

// A gRPC status code in an error answer; the ones below are the ones we act on.
enum class GrpcCode : int {
  ok = 0,
  cancelled = 1,
  unknown = 2,
  invalid_argument = 3,
  deadline_exceeded = 4,
  not_found = 5,
  already_exists = 6,
  permission_denied = 7,
  resource_exhausted = 8,
  failed_precondition = 9,
  aborted = 10,
  out_of_range = 11,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
  data_loss = 15,
  unauthenticated = 16,
};

// What an answer from a member means for the call that got it.
struct Answer {
  enum class Kind {
    ok,              // `body` is the result
    retry,           // the member cannot serve now (no leader, timed out, overloaded): try another
    reauthenticate,  // the auth token is invalid or expired: get a new one, then retry once
    error,           // etcd refused the request itself (lease not found, bad argument): tell the caller
  };
  Kind kind = Kind::ok;
  nlohmann::json body;
  Error failure;  // when not ok: etcd's message and our code for it
};

// Sorts one HTTP answer (`status`, `text` the body) from a member.
Answer classify(long status, std::string_view text);

}  // namespace chaosplus::etcd::wire
