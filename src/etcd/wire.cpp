#include "etcd/wire.h"

#include <array>

namespace chaosplus::etcd::wire {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // '-' and '_': the URL-safe alphabet, which decoders also accept
  if (c == '/' || c == '_') return 63;
  return -1;
}

ErrorCode error_code_for(GrpcCode code) {
  switch (code) {
    case GrpcCode::not_found: return ErrorCode::not_found;
    case GrpcCode::already_exists: return ErrorCode::already_exists;
    case GrpcCode::invalid_argument:
    case GrpcCode::failed_precondition:
    case GrpcCode::out_of_range: return ErrorCode::invalid_argument;
    case GrpcCode::deadline_exceeded: return ErrorCode::timeout;
    case GrpcCode::unavailable:
    case GrpcCode::resource_exhausted:
    case GrpcCode::aborted:
    case GrpcCode::cancelled: return ErrorCode::unavailable;
    case GrpcCode::permission_denied:
    case GrpcCode::unauthenticated: return ErrorCode::io_error;
    case GrpcCode::internal:
    case GrpcCode::data_loss: return ErrorCode::internal;
    default: return ErrorCode::unknown;
  }
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                            (static_cast<std::uint8_t>(bytes[i + 1]) << 8) | static_cast<std::uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = sextet(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  // The bits left over must be the zero padding of the last byte, or the text was not base64.
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = end.back();
    if (static_cast<std::uint8_t>(last) < 0xff) {
      last = static_cast<char>(static_cast<std::uint8_t>(last) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::int64_t int64_field(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_string()) {
    const auto& text = it->get_ref<const std::string&>();
    try {
      std::size_t used = 0;
      const long long value = std::stoll(text, &used);
      if (used == text.size()) return value;
    } catch (const std::exception&) {
    }
  }
  return 0;
}

Result<KeyValue> parse_key_value(const nlohmann::json& kv) {
  if (!kv.is_object()) return Error{"etcd answer: a key-value is not an object: " + kv.dump(), ErrorCode::internal};
  KeyValue out;
  for (auto [field, target] : {std::pair{"key", &out.key}, std::pair{"value", &out.value}}) {
    auto it = kv.find(field);
    if (it == kv.end()) continue;  // an empty value is left out
    auto bytes = it->is_string() ? base64_decode(it->get_ref<const std::string&>()) : std::nullopt;
    if (!bytes)
      return Error{std::string("etcd answer: \"") + field + "\" is not base64: " + it->dump(), ErrorCode::internal};
    *target = std::move(*bytes);
  }
  out.create_revision = int64_field(kv, "create_revision");
  out.mod_revision = int64_field(kv, "mod_revision");
  out.version = int64_field(kv, "version");
  out.lease = int64_field(kv, "lease");
  return out;
}

Answer classify(long status, std::string_view text) {
  Answer answer;
  nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const bool has_error = body.is_object() && (body.contains("error") || body.contains("code")) &&
                         !body.contains("header") && !body.contains("result");
  if (status == 200 && body.is_object() && !has_error) {
    answer.body = std::move(body);
    return answer;
  }
  if (!has_error) {
    // Not etcd's error object: a proxy, or something that is not an etcd member at all.
    answer.kind = status >= 500 || status == 0 ? Answer::Kind::retry : Answer::Kind::error;
    std::string excerpt(text.substr(0, 200));
    answer.failure = {"HTTP " + std::to_string(status) + (excerpt.empty() ? "" : ": " + excerpt),
                      status >= 500 ? ErrorCode::unavailable : ErrorCode::unknown};
    return answer;
  }
  // A unary call's error is {"error": text, "code": n, "message": text}; a streamed call's (watch,
  // lease keep-alive) is {"error": {"grpc_code": n, "http_code": n, "message": text}}.
  const nlohmann::json& detail = body.contains("error") && body["error"].is_object() ? body["error"] : body;
  const auto code = static_cast<GrpcCode>(detail.value("code", detail.value("grpc_code", 2)));
  std::string message = detail.value("message", std::string{});
  if (message.empty() && detail.contains("error") && detail["error"].is_string()) message = detail["error"];
  if (message.empty()) message = "HTTP " + std::to_string(status);
  answer.failure = {message, error_code_for(code)};
  switch (code) {
    case GrpcCode::unavailable:
    case GrpcCode::deadline_exceeded:
    case GrpcCode::resource_exhausted:
    case GrpcCode::aborted:
    case GrpcCode::cancelled: answer.kind = Answer::Kind::retry; break;
    case GrpcCode::unauthenticated: answer.kind = Answer::Kind::reauthenticate; break;
    default:
      // etcd says "revision of auth store is old" (InvalidArgument) when the token predates a change
      // of users or roles: a new token is the cure, as for an expired one.
      answer.kind =
          message.find("auth store is old") != std::string::npos ? Answer::Kind::reauthenticate : Answer::Kind::error;
  }
  return answer;
}

}  // namespace chaosplus::etcd::wire
