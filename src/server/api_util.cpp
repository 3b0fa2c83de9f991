#include "server/api_util.h"

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

#include "net/http_message.h"
#include "server/state.h"

namespace chaosplus::server {

using nlohmann::json;

net::Response error_json(int status, const std::string& message) {
  constexpr std::size_t kMax = 1024;
  const std::string shown = message.size() <= kMax ? message : message.substr(0, kMax) + "...";
  nlohmann::json body{{"error", shown}};
  return net::Response::json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

net::Response json_reply(int status, const std::string& body) {
  auto response = net::Response::json(status, body);
  response.set_header("Cache-Control", "no-store");
  return response;
}

std::string time_json(store::WallTime t) {
  if (t == store::WallTime{}) return "null";
  return json(format_wall_time(t)).dump();
}

std::string run_json(const store::RunRow& run, bool with_file_text) {
  json j{{"id", run.run_id},
         {"experiment", run.experiment},
         {"file", run.file},
         {"file_sha256", run.file_sha256},
         {"journal", run.journal},
         {"host", run.host},
         {"status", store::to_string(run.status)},
         {"verdict", run.verdict},
         {"exit_code", run.exit_code},
         {"reasons", run.reasons},
         {"events", run.events}};
  j["started"] = json::parse(time_json(run.started));
  j["ended"] = json::parse(time_json(run.ended));
  if (run.verdict.empty()) j["verdict"] = nullptr;
  if (run.exit_code < 0) j["exit_code"] = nullptr;
  if (with_file_text) j["file_text"] = run.file_text;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string event_json(const store::StoredEvent& event) {
  // The journal line as stored (the same bytes as the export); made from the event when absent.
  std::string line = event.line.empty() ? to_json_line(event.event) : event.line;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return "{\"seq\":" + std::to_string(event.seq) + (line.size() > 2 ? "," + line.substr(1) : "}");
}

Result<long long> parse_count(std::string_view text, long long min, long long max, const std::string& what) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return Error{what + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                     ", got '" + std::string(text.substr(0, 64)) + "'",
                 ErrorCode::invalid_argument};
  }
  return value;
}

Result<store::WallTime> parse_time(std::string_view text) {
  const auto bad = [&] {
    return Error{"'" + std::string(text.substr(0, 64)) +
                     "' is not a time: expected 2026-12-06, 2026-12-06T16:00:00Z or seconds since 1970",
                 ErrorCode::invalid_argument};
  };
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    auto seconds = parse_count(text, 0, 32503680000LL, "a time");
    if (!seconds) return bad();
    return store::WallTime{std::chrono::seconds(*seconds)};
  }
  std::tm tm{};
  int millis = 0;
  auto digits = [&](std::size_t at, std::size_t n, int& out) {
    if (at + n > text.size()) return false;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + n, out);
    return ec == std::errc{} && end == text.data() + at + n;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(0, 4, year) || text.size() < 10 || text[4] != '-' || !digits(5, 2, month) || text[7] != '-' ||
      !digits(8, 2, day)) {
    return bad();
  }
  if (text.size() > 10) {
    if ((text[10] != 'T' && text[10] != ' ') || text.size() < 20 || !digits(11, 2, hour) || text[13] != ':' ||
        !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second)) {
      return bad();
    }
    std::size_t at = 19;
    if (text[at] == '.') {
      std::size_t n = 0;
      while (at + 1 + n < text.size() && text[at + 1 + n] >= '0' && text[at + 1 + n] <= '9') ++n;
      if (n == 0) return bad();
      int fraction = 0;
      if (!digits(at + 1, std::min<std::size_t>(n, 3), fraction)) return bad();
      for (std::size_t k = std::min<std::size_t>(n, 3); k < 3; ++k) fraction *= 10;
      millis = fraction;
      at += 1 + n;
    }
    if (at + 1 != text.size() || text[at] != 'Z') return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return bad();
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = ::timegm(&tm);
  return store::WallTime{std::chrono::seconds(t)} + std::chrono::milliseconds(millis);
}

}  // namespace chaosplus::server
