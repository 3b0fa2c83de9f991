#include "fuzz/request_case.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "fuzz/encoding.h"
#include "net/http_token.h"

namespace chaosplus::fuzz {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// A path parameter's value, style "simple": arrays and objects comma-joined, each piece encoded
// as one segment so that a value cannot add path segments ("a/b" -> "a%2Fb").
std::string path_value(const Json& value) {
  auto piece = [](const Json& v) { return percent_encode(scalar_text(v), PercentMode::path_segment); };
  std::string out;
  if (value.is_array()) {
    for (const auto& item : value) {
      if (!out.empty()) out += ',';
      out += piece(item);
    }
  } else if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      if (!out.empty()) out += ',';
      out += percent_encode(key, PercentMode::path_segment) + ',' + piece(item);
    }
  } else {
    out = piece(value);
  }
  return out;
}

void add_pair(std::string& out, std::string_view name, const Json& value, PercentMode mode) {
  if (!out.empty()) out += '&';
  out += percent_encode(name, mode);
  out += '=';
  out += percent_encode(scalar_text(value), mode);
}

// Name/value pairs, style form with explode (OpenAPI's default for query and form bodies): an
// array repeats its name, an object gives one pair per property, anything deeper is JSON text.
void add_form_value(std::string& out, const std::string& name, const Json& value, PercentMode mode) {
  if (value.is_array()) {
    for (const auto& item : value) add_pair(out, name, item, mode);
  } else if (value.is_object()) {
    for (const auto& [key, item] : value.items()) add_pair(out, key, item, mode);
  } else {
    add_pair(out, name, value, mode);
  }
}

std::string form_body(const Json& body) {
  if (!body.is_object()) return scalar_text(body);
  std::string out;
  for (const auto& [name, value] : body.items()) {
    if (value.is_array()) {
      for (const auto& item : value) add_pair(out, name, item, PercentMode::form);
    } else {
      add_pair(out, name, value, PercentMode::form);
    }
  }
  return out;
}

// A boundary none of the parts contain, derived from their bytes (FNV-1a) so that it is the same
// for the same body on every run.
std::string multipart_boundary(const std::string& everything) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : everything) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  for (;;) {
    std::string boundary = "chaosplus-";
    for (int shift = 60; shift >= 0; shift -= 4) boundary += "0123456789abcdef"[(hash >> shift) & 0xF];
    if (everything.find(boundary) == std::string::npos) return boundary;
    hash = hash * 0x100000001b3ULL + 1;
  }
}

std::string multipart_body(const Json& body, std::string& content_type) {
  std::vector<std::pair<std::string, const Json*>> parts;
  for (const auto& [name, value] : body.items()) {
    if (value.is_array()) {
      for (const auto& item : value) parts.emplace_back(name, &item);
    } else {
      parts.emplace_back(name, &value);
    }
  }
  std::string everything;
  for (const auto& [name, value] : parts) everything += name + scalar_text(*value);
  const std::string boundary = multipart_boundary(everything);
  std::string out;
  for (const auto& [name, value] : parts) {
    out += "--" + boundary + "\r\n";
    out += "Content-Disposition: form-data; name=\"" + percent_encode(name, PercentMode::cookie) + "\"\r\n";
    if (value->is_object() || value->is_array()) out += "Content-Type: application/json\r\n";
    out += "\r\n" + scalar_text(*value) + "\r\n";
  }
  out += "--" + boundary + "--\r\n";
  content_type = "multipart/form-data; boundary=" + boundary;
  return out;
}

// The body's bytes and the Content-Type they go with; nullopt when the case has no body.
std::optional<std::pair<std::string, std::string>> body_bytes(const RequestCase& request) {
  if (request.raw_body) return std::pair{*request.raw_body, request.body_content_type};
  if (!request.body) return std::nullopt;
  std::string content_type = request.body_content_type.empty() ? "application/json" : request.body_content_type;
  const std::string_view media = std::string_view(content_type).substr(0, content_type.find(';'));
  std::string bytes;
  if (media == "application/x-www-form-urlencoded") {
    bytes = form_body(*request.body);
  } else if (media == "multipart/form-data" && request.body->is_object()) {
    bytes = multipart_body(*request.body, content_type);
  } else if (media.find("json") != std::string_view::npos) {
    bytes = json_text(*request.body);
  } else {
    bytes = scalar_text(*request.body);
  }
  return std::pair{std::move(bytes), std::move(content_type)};
}

bool is_framing_header(std::string_view name) {
  return iequals(name, "Host") || iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding");
}

// A conforming case's header is made writable: only token characters in the name, no control
// characters but HTAB in the value. A negative case keeps what it was given except CR and LF,
// which would split it into another request (those belong in `raw`).
std::string clean_name(std::string_view name, bool conforming) {
  std::string out;
  for (char c : name)
    if (conforming ? net::is_token_char(c) : (c != '\r' && c != '\n' && c != ':')) out += c;
  return out;
}

std::string clean_value(std::string_view value, bool conforming) {
  std::string out;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r' || c == '\n') continue;
    if (conforming && ((u < 0x20 && c != '\t') || u == 0x7F)) continue;
    out += c;
  }
  return out;
}

struct Head {
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, after Host
  std::optional<std::string> body;
};

std::string request_target(const RequestCase& request, const net::Url& base) {
  const std::size_t question = base.target.find('?');
  std::string target = base.target.substr(0, question);
  while (!target.empty() && target.back() == '/') target.pop_back();
  const std::string& path = request.path;
  for (std::size_t i = 0; i < path.size();) {
    const std::size_t open = path.find('{', i);
    const std::size_t close = open == std::string::npos ? std::string::npos : path.find('}', open);
    if (close == std::string::npos) {
      target.append(path, i);
      break;
    }
    target.append(path, i, open - i);
    const auto found = request.path_params.find(path.substr(open + 1, close - open - 1));
    if (found != request.path_params.end()) target += path_value(found->second);  // missing: empty
    i = close + 1;
  }
  if (target.empty() || target.front() != '/') target.insert(0, "/");
  std::string query = question == std::string::npos ? std::string() : base.target.substr(question + 1);
  for (const auto& [name, value] : request.query) add_form_value(query, name, value, PercentMode::query);
  if (!query.empty()) target += '?' + query;
  return target;
}

Head head_of(const RequestCase& request, const net::Url& base,
             const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  const bool conforming = request.expect_valid;
  Head head;
  head.target = request_target(request, base);
  std::string cookie;
  bool has_content_type = false;
  auto add = [&](const std::string& raw_name, const std::string& raw_value, bool from_case) {
    std::string name = clean_name(raw_name, conforming || !from_case);
    if (name.empty() || (from_case && is_framing_header(name))) return;
    std::string value = clean_value(raw_value, conforming || !from_case);
    if (iequals(name, "Cookie")) {  // one Cookie header (RFC 6265 5.4): the engine's and the case's
      cookie += (cookie.empty() ? "" : "; ") + value;
      return;
    }
    if (iequals(name, "Content-Type")) has_content_type = true;
    head.headers.emplace_back(std::move(name), std::move(value));
  };
  for (const auto& [name, value] : request.headers) add(name, value, true);
  for (const auto& [name, value] : extra_headers) add(name, value, false);
  for (const auto& [name, value] : request.cookies) {
    cookie += (cookie.empty() ? "" : "; ") + percent_encode(name, PercentMode::cookie) + '=' +
              percent_encode(scalar_text(value), PercentMode::cookie);
  }
  if (!cookie.empty()) head.headers.emplace_back("Cookie", cookie);
  if (auto body = body_bytes(request)) {
    if (!has_content_type && !body->second.empty()) head.headers.emplace_back("Content-Type", body->second);
    head.body = std::move(body->first);
  }
  return head;
}

bool sends_length_when_empty(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// Single quotes keep every byte but NUL literally in POSIX sh; a quote itself is closed, escaped
// and reopened.
std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A printf format that writes `bytes` exactly: escapes for '\', '%', and every byte that is not
// printable ASCII, so the command survives terminals and copy-paste.
std::string printf_format(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '%') {
      out += "%%";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u >= 0x7F) {
      out += '\\';
      out += static_cast<char>('0' + ((u >> 6) & 7));
      out += static_cast<char>('0' + ((u >> 3) & 7));
      out += static_cast<char>('0' + (u & 7));
    } else {
      out += c;
    }
  }
  return out;
}

bool printable(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 0x20 && u < 0x7F) || c == '\n' || c == '\t';
  });
}

bool argv_safe(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) { return c == '\0' || c == '\r' || c == '\n'; });
}

std::string raw_command(const std::string& bytes, const net::Url& base) {
  const std::string port = std::to_string(base.port);
  const std::string connect = base.scheme == "https"
                                  ? "openssl s_client -quiet -connect " + shell_quote(base.authority())
                                  : "nc " + shell_quote(base.host) + " " + port;
  return "printf " + shell_quote(printf_format(bytes)) + " | " + connect;
}

// Optional fields and byte strings that may not be UTF-8 (a JSON file holds only text): a string
// when it is valid UTF-8, else {"base64": "..."}.
Json pack_bytes(const std::string& bytes) {
  if (valid_utf8(bytes)) return bytes;
  return Json{{"base64", base64_encode(bytes)}};
}

// A JSON value whose strings may not be UTF-8 (lone surrogates, invalid bytes in a negative case):
// as itself when nlohmann can write it, else as CBOR (which carries any bytes) in base64.
constexpr const char* kCborKey = "x-chaosplus-cbor";
Json pack_value(const Json& value) {
  if (strict_json(value)) return value;
  const std::vector<std::uint8_t> cbor = Json::to_cbor(value);
  return Json{{kCborKey, base64_encode(std::string_view(reinterpret_cast<const char*>(cbor.data()), cbor.size()))}};
}

Error bad(const std::string& what) { return Error{"request case: " + what, ErrorCode::invalid_argument}; }

Result<std::string> unpack_bytes(const Json& json, const std::string& field) {
  if (json.is_string()) return json.get<std::string>();
  if (json.is_object() && json.size() == 1 && json.contains("base64") && json["base64"].is_string()) {
    if (auto bytes = base64_decode(json["base64"].get<std::string>())) return *bytes;
    return bad(field + ": invalid base64");
  }
  return bad(field + ": expected a string or {\"base64\": ...}");
}

Result<Json> unpack_value(const Json& json, const std::string& field) {
  if (!(json.is_object() && json.size() == 1 && json.contains(kCborKey))) return json;
  const auto bytes = json[kCborKey].is_string() ? base64_decode(json[kCborKey].get<std::string>()) : std::nullopt;
  if (!bytes) return bad(field + ": invalid " + kCborKey);
  try {
    return Json::from_cbor(*bytes);
  } catch (const Json::exception& e) {
    return bad(field + ": " + e.what());
  }
}

Result<std::vector<std::pair<std::string, Json>>> read_pairs(const Json& json, const std::string& field,
                                                             bool values_are_strings) {
  std::vector<std::pair<std::string, Json>> out;
  if (!json.is_array()) return bad(field + ": expected an array of [name, value]");
  for (std::size_t i = 0; i < json.size(); ++i) {
    const Json& pair = json[i];
    const std::string where = field + "[" + std::to_string(i) + "]";
    if (!pair.is_array() || pair.size() != 2) return bad(where + ": expected [name, value]");
    auto name = unpack_bytes(pair[0], where + "[0]");
    if (!name) return name.failure();
    if (values_are_strings) {
      auto value = unpack_bytes(pair[1], where + "[1]");
      if (!value) return value.failure();
      out.emplace_back(*name, Json(*value));
    } else {
      auto value = unpack_value(pair[1], where + "[1]");
      if (!value) return value.failure();
      out.emplace_back(*name, *value);
    }
  }
  return out;
}

Result<std::map<std::string, Json>> read_map(const Json& json, const std::string& field) {
  std::map<std::string, Json> out;
  if (!json.is_object()) return bad(field + ": expected an object");
  for (const auto& [name, value] : json.items()) {
    auto unpacked = unpack_value(value, field + "." + name);
    if (!unpacked) return unpacked.failure();
    out.emplace(name, *unpacked);
  }
  return out;
}

}  // namespace

std::string render(const RequestCase& request, const net::Url& base,
                   const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  if (request.raw) return *request.raw;
  const Head head = head_of(request, base, extra_headers);
  std::string out;
  out.reserve(256 + (head.body ? head.body->size() : 0));
  out += request.method + ' ' + head.target + " HTTP/1.1\r\n";
  out += "Host: " + base.authority() + "\r\n";
  for (const auto& [name, value] : head.headers) out += name + ": " + value + "\r\n";
  if (head.body) {
    out += "Content-Length: " + std::to_string(head.body->size()) + "\r\n\r\n" + *head.body;
  } else {
    if (sends_length_when_empty(request.method)) out += "Content-Length: 0\r\n";
    out += "\r\n";
  }
  return out;
}

std::string to_curl(const RequestCase& request, const net::Url& base,
                    const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  if (request.raw) return raw_command(*request.raw, base);
  const Head head = head_of(request, base, extra_headers);
  // curl cannot carry NUL, CR or LF in a header: such a case is given as its raw bytes.
  for (const auto& [name, value] : head.headers)
    if (!argv_safe(name) || !argv_safe(value)) return raw_command(render(request, base, extra_headers), base);
  std::string out = "curl -sS -i --path-as-is -g";
  out += request.method == "HEAD" ? std::string(" -I") : " -X " + shell_quote(request.method);
  std::string body_prefix;
  for (const auto& [name, value] : head.headers) out += " -H " + shell_quote(name + ": " + value);
  if (head.body) {
    if (printable(*head.body) && head.body->size() <= 4096) {
      out += " --data-binary " + shell_quote(*head.body);
    } else {
      body_prefix = "printf " + shell_quote(printf_format(*head.body)) + " | ";
      out += " --data-binary @-";
    }
  } else if (sends_length_when_empty(request.method)) {
    out += " -H 'Content-Length: 0'";
  }
  out += " " + shell_quote(base.scheme + "://" + base.authority() + head.target);
  return body_prefix + out;
}

Json to_json(const RequestCase& request) {
  Json out = Json::object();
  out["operation_id"] = pack_bytes(request.operation_id);
  out["method"] = pack_bytes(request.method);
  out["path"] = pack_bytes(request.path);
  Json path_params = Json::object();
  for (const auto& [name, value] : request.path_params) path_params[name] = pack_value(value);
  out["path_params"] = std::move(path_params);
  Json query = Json::array();
  for (const auto& [name, value] : request.query) query.push_back(Json::array({pack_bytes(name), pack_value(value)}));
  out["query"] = std::move(query);
  Json headers = Json::array();
  for (const auto& [name, value] : request.headers)
    headers.push_back(Json::array({pack_bytes(name), pack_bytes(value)}));
  out["headers"] = std::move(headers);
  Json cookies = Json::object();
  for (const auto& [name, value] : request.cookies) cookies[name] = pack_value(value);
  out["cookies"] = std::move(cookies);
  if (request.body) out["body"] = pack_value(*request.body);
  out["body_content_type"] = pack_bytes(request.body_content_type);
  if (request.raw_body) out["raw_body"] = pack_bytes(*request.raw_body);
  if (request.raw) out["raw"] = pack_bytes(*request.raw);
  out["expect_valid"] = request.expect_valid;
  out["mutation"] = pack_bytes(request.mutation);
  return out;
}

Result<RequestCase> request_case_from_json(const Json& json) {
  if (!json.is_object()) return bad("expected an object");
  RequestCase out;
  auto text = [&](const char* field, std::string& into, bool required) -> Status {
    if (!json.contains(field)) return required ? Status(bad(std::string("'") + field + "' is missing")) : ok_status();
    auto value = unpack_bytes(json[field], field);
    if (!value) return value.failure();
    into = std::move(*value);
    return ok_status();
  };
  for (auto [field, into, required] :
       {std::tuple{"operation_id", &out.operation_id, false}, std::tuple{"method", &out.method, true},
        std::tuple{"path", &out.path, false}, std::tuple{"body_content_type", &out.body_content_type, false},
        std::tuple{"mutation", &out.mutation, false}}) {
    if (auto status = text(field, *into, required); !status) return status.failure();
  }
  if (json.contains("path_params")) {
    auto map = read_map(json["path_params"], "path_params");
    if (!map) return map.failure();
    out.path_params = std::move(*map);
  }
  if (json.contains("cookies")) {
    auto map = read_map(json["cookies"], "cookies");
    if (!map) return map.failure();
    out.cookies = std::move(*map);
  }
  if (json.contains("query")) {
    auto pairs = read_pairs(json["query"], "query", false);
    if (!pairs) return pairs.failure();
    out.query = std::move(*pairs);
  }
  if (json.contains("headers")) {
    auto pairs = read_pairs(json["headers"], "headers", true);
    if (!pairs) return pairs.failure();
    for (auto& [name, value] : *pairs) out.headers.emplace_back(name, value.get<std::string>());
  }
  if (json.contains("body")) {
    auto body = unpack_value(json["body"], "body");
    if (!body) return body.failure();
    out.body = std::move(*body);
  }
  for (auto [field, into] : {std::pair{"raw_body", &out.raw_body}, std::pair{"raw", &out.raw}}) {
    if (!json.contains(field)) continue;
    auto value = unpack_bytes(json[field], field);
    if (!value) return value.failure();
    *into = std::move(*value);
  }
  if (json.contains("expect_valid")) {
    if (!json["expect_valid"].is_boolean()) return bad("'expect_valid': expected true or false");
    out.expect_valid = json["expect_valid"].get<bool>();
  }
  return out;
}

}  // namespace chaosplus::fuzz
