#include "net/http_message.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "net/http_fields.h"

namespace chaosplus::net {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string_view find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

void replace_header(std::vector<Header>& headers, std::string name, std::string value) {
  std::erase_if(headers, [&](const Header& h) { return iequals(h.name, name); });
  headers.push_back({std::move(name), std::move(value)});
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_head_and_body(std::string& out, const std::vector<Header>& headers, const std::string& body,
                          bool body_allowed, std::string_view extra_connection) {
  const bool chunked = [&] {
    bool last_is_chunked = false;
    for_each_list_element(headers, "Transfer-Encoding",
                          [&](std::string_view t) { last_is_chunked = iequals(t, "chunked"); });
    return last_is_chunked;
  }();
  for (const auto& h : headers) {
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  if (body_allowed && !chunked && !body.empty() && !contains_header(headers, "Content-Length")) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (!extra_connection.empty() && !contains_header(headers, "Connection")) {
    out += "Connection: ";
    out += extra_connection;
    out += "\r\n";
  }
  out += "\r\n";
  if (!body_allowed) return;
  if (chunked) {
    if (!body.empty()) {
      char size[32];
      auto [end, ec] = std::to_chars(size, size + sizeof size, body.size(), 16);
      out.append(size, end);
      out += "\r\n";
      out += body;
      out += "\r\n";
    }
    out += "0\r\n\r\n";
  } else {
    out += body;
  }
}

}  // namespace

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool contains_header(const std::vector<Header>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, name); });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(percent_decode(path.substr(start, slash - start)));
    start = slash + 1;
  }
  return parts;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view Request::header(std::string_view name) const { return find_header(headers, name); }
bool Request::has_header(std::string_view name) const { return contains_header(headers, name); }
void Request::set_header(std::string name, std::string value) {
  replace_header(headers, std::move(name), std::move(value));
}

std::string Request::path() const { return target.substr(0, target.find('?')); }

std::string Request::query_param(std::string_view name) const {
  auto q = target.find('?');
  if (q == std::string::npos) return {};
  std::string_view query(target);
  query.remove_prefix(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::string_view Response::header(std::string_view name) const { return find_header(headers, name); }
bool Response::has_header(std::string_view name) const { return contains_header(headers, name); }
void Response::set_header(std::string name, std::string value) {
  replace_header(headers, std::move(name), std::move(value));
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  r.body = std::move(body);
  return r;
}

std::string reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: break;
  }
  if (status >= 100 && status < 200) return "Informational";
  if (status >= 200 && status < 300) return "Success";
  if (status >= 300 && status < 400) return "Redirection";
  if (status >= 400 && status < 500) return "Client Error";
  return "Server Error";
}

std::string serialize(const Request& request) {
  std::string out;
  out.reserve(128 + request.body.size());
  out += request.method;
  out += ' ';
  out += request.target;
  out += " HTTP/1.1\r\n";
  append_head_and_body(out, request.headers, request.body, true, {});
  return out;
}

std::string serialize(const Response& response, bool keep_alive) {
  std::string out;
  out.reserve(128 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += response.reason.empty() ? reason_phrase(response.status) : response.reason;
  out += "\r\n";
  const bool body_allowed = response.status >= 200 && response.status != 204 && response.status != 304;
  append_head_and_body(out, response.headers, response.body, body_allowed, keep_alive ? "" : "close");
  return out;
}

}  // namespace chaosplus::net
