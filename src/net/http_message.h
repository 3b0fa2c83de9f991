#pragma once
// HTTP/1.1 messages as plain values, and their serializers. The parsers for both directions are
// in net/http_parser.h.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace chaosplus::net {

class ResponseStream;  // net/http_server.h

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";
  std::string target = "/";
  std::vector<Header> headers;
  std::string body;
  std::string version = "HTTP/1.1";  // as received; serialize() always writes HTTP/1.1

  std::string_view header(std::string_view name) const;  // case-insensitive; "" if absent
  bool has_header(std::string_view name) const;
  void set_header(std::string name, std::string value);  // replaces every header of that name
  std::string path() const;                              // target without the query string
  std::string query_param(std::string_view name) const;  // percent-decoded; "" if absent
};

struct Response {
  int status = 200;
  std::string reason;  // empty: serialize() uses reason_phrase(status)
  std::vector<Header> headers;
  std::string body;
  std::string version = "HTTP/1.1";
  // Only for HttpServer's handlers: when set, the head is sent at once (no Content-Length,
  // "Connection: close") and `stream` then writes the body as it is produced, until it returns and
  // the connection closes (Server-Sent Events). serialize() ignores it.
  std::function<void(ResponseStream&)> stream;

  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  void set_header(std::string name, std::string value);
  static Response json(int status, std::string body);  // Content-Type: application/json
  static Response text(int status, std::string body);  // text/plain
};

std::string reason_phrase(int status);
bool iequals(std::string_view a, std::string_view b);
// "%41b+c" -> "Ab c" (plus as space, as in query strings); malformed escapes are kept verbatim.
std::string percent_decode(std::string_view text);
// A request path's segments, each percent-decoded: "/api/runs/a%2Fb/events" -> {"api", "runs", "a/b", "events"}.
std::vector<std::string> split_path(const std::string& path);

// Serializers add Content-Length when a body is present and none is set. A message that carries
// "Transfer-Encoding: chunked" has its body written as one chunk and the last chunk.
std::string serialize(const Request& request);
// keep_alive false adds "Connection: close" (unless a Connection header is already set).
std::string serialize(const Response& response, bool keep_alive);

}  // namespace chaosplus::net
