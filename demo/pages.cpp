#include "pages.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>

#include "net/socket.h"
#include "service.h"
#include "shop_http.h"

namespace chaosplus::demo {

namespace {

constexpr std::size_t kMaxFile = 64 * 1024;
constexpr std::size_t kMaxName = 100;
constexpr std::size_t kMaxQuery = 200;
constexpr std::size_t kHangFrom = 512;  // the hang bug: a query this long "backtracks" for 30 s

const std::array<std::pair<const char*, const char*>, 3> kDocuments = {{
    {"readme.txt", "Demo shop: public documents. Ask for shipping.txt or returns.txt.\n"},
    {"shipping.txt", "Orders ship within 2 working days. Shipping is free above 50.00.\n"},
    {"returns.txt", "Return any item within 30 days for a full refund.\n"},
}};

bool is_plain_file_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name.find("..") != std::string::npos) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

std::string real_path(const std::string& path) {
  char buffer[PATH_MAX];
  return ::realpath(path.c_str(), buffer) ? std::string(buffer) : std::string();
}

// Replaces every "{{a*b}}" ("{{ 7 * 7 }}", + and - too) with its value: the template bug.
std::string evaluate_templates(const std::string& text, bool& evaluated) {
  static const std::regex expression(R"(\{\{\s*(\d{1,9})\s*([*+-])\s*(\d{1,9})\s*\}\})");
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), expression);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    const long long a = std::stoll(m[1].str()), b = std::stoll(m[3].str());
    const char op = m[2].str()[0];
    const long long value = op == '*' ? a * b : op == '+' ? a + b : a - b;
    out += text.substr(last, static_cast<std::size_t>(m.position(0)) - last) + std::to_string(value);
    last = static_cast<std::size_t>(m.position(0) + m.length(0));
    evaluated = true;
  }
  return out + text.substr(last);
}

}  // namespace

Status write_demo_files(const std::string& folder) {
  if (::mkdir(folder.c_str(), 0755) != 0 && errno != EEXIST) {
    return Error{"cannot create " + folder + ": " + std::strerror(errno), ErrorCode::io_error};
  }
  for (const auto& [name, content] : kDocuments) {
    const std::string path = folder + "/" + name;
    const std::string temporary = path + ".tmp." + std::to_string(::getpid());
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out << content;
      if (!out.flush()) return Error{"cannot write " + temporary, ErrorCode::io_error};
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
      return Error{"cannot rename " + temporary + ": " + std::strerror(errno), ErrorCode::io_error};
    }
  }
  return ok_status();
}

net::Response Pages::file(const net::Request& request) const {
  const std::string name = request.query_param("name");
  if (name.empty()) return json_error(400, "name is required");
  const bool plain = is_plain_file_name(name);
  if (!plain && !bugs_.on(Bug::path_traversal)) {
    return json_error(400, "name must be a file name (letters, digits, . _ -; at most 64 characters)");
  }
  const std::string path = folder_ + "/" + name;
  // Non-blocking, and regular files only: a FIFO or a device never stalls or floods the answer.
  net::Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  struct stat info {};
  if (!fd.valid() || ::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) return json_error(404, "no such file");
  std::string content(kMaxFile, '\0');
  const ssize_t got = ::read(fd.get(), content.data(), content.size());
  if (got < 0) return json_error(404, "no such file");
  content.resize(static_cast<std::size_t>(got));
  const std::string inside = real_path(folder_) + "/";
  if (real_path(path).rfind(inside, 0) != 0) report_hit(Bug::path_traversal);
  return text_response(200, std::move(content));
}

net::Response Pages::greet(const net::Request& request) const {
  std::string name = request.query_param("name");
  const std::string format = request.query_param("format");
  if (name.empty() || name.size() > kMaxName) {
    return json_error(400, "name is required, at most " + std::to_string(kMaxName) + " characters");
  }
  if ((has_query_param(request, "format") || !format.empty()) && format != "text" && format != "html") {
    return json_error(400, "format must be text or html");
  }
  if (bugs_.on(Bug::template_injection)) {
    bool evaluated = false;
    name = evaluate_templates(name, evaluated);
    if (evaluated) report_hit(Bug::template_injection);
  }
  if (format == "html") {
    return html_response(200, "<!doctype html>\n<html><head><title>Greeting</title></head><body><p>Hello, " +
                                  html_escape(name) + "!</p></body></html>\n");
  }
  return text_response(200, "Hello, " + name + "!\n");
}

net::Response Pages::page(const net::Request& request) const {
  const std::string q = request.query_param("q");
  if (q.size() >= kHangFrom && bugs_.trigger(Bug::hang)) wait_or_stop(std::chrono::seconds(30));
  if (q.size() > kMaxQuery) return json_error(400, "q must be at most " + std::to_string(kMaxQuery) + " characters");
  std::string shown = html_escape(q);
  if (shown != q && bugs_.trigger(Bug::reflected_xss)) shown = q;
  std::string body =
      "<!doctype html>\n<html><head><title>Search</title></head><body>\n<h1>Search the shop</h1>\n"
      "<form action=\"/page\" method=\"get\"><input name=\"q\" value=\"" +
      html_escape(q) + "\"><button>Search</button></form>\n";
  if (!q.empty()) {
    body += "<p>Results for " + shown + ":</p>\n<ul>\n";
    for (const auto& product : catalog_.names_containing(q)) body += "<li>" + html_escape(product) + "</li>\n";
    body += "</ul>\n";
  }
  body += "</body></html>\n";
  return html_response(200, std::move(body));
}

}  // namespace chaosplus::demo
