#include "server/sse.h"

namespace chaosplus::server {
namespace {

// Field values end at CR or LF: neither may appear inside one.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) out += c == '\n' || c == '\r' ? ' ' : c;
  return out;
}

}  // namespace

std::string sse_message(std::int64_t id, std::string_view type, std::string_view data) {
  std::string out = "id: " + std::to_string(id) + "\nevent: " + one_line(type) + "\n";
  std::size_t start = 0;
  while (true) {
    auto end = data.find_first_of("\r\n", start);
    out += "data: ";
    out += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += '\n';
    if (end == std::string_view::npos) break;
    start = end + ((data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n') ? 2 : 1);
  }
  return out + "\n";
}

std::string sse_comment(std::string_view text) { return ": " + one_line(text) + "\n\n"; }

}  // namespace chaosplus::server
