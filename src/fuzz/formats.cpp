#include "fuzz/formats.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz/encoding.h"

namespace chaosplus::fuzz::formats {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

std::string two(int v) { return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10); }
std::string four(int v) { return two(v / 100) + two(v % 100); }

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

std::string word(Rng& rng, std::size_t min, std::size_t max) {
  std::string out;
  const auto n = static_cast<std::size_t>(rng.between(static_cast<std::int64_t>(min), static_cast<std::int64_t>(max)));
  for (std::size_t i = 0; i < n; ++i) out += kAlnum[rng.below(26)];
  return out;
}

std::string date(Rng& rng) {
  // Mostly ordinary dates, sometimes the ones code gets wrong (29 February, year ends, epoch).
  static const char* kEdges[] = {"2024-02-29", "1970-01-01", "1999-12-31", "2000-01-01", "2038-01-19", "9999-12-31"};
  if (rng.chance(0.2)) return kEdges[rng.below(std::size(kEdges))];
  const int y = static_cast<int>(rng.between(1950, 2049));
  const int m = static_cast<int>(rng.between(1, 12));
  const int d = static_cast<int>(rng.between(1, days_in(y, m)));
  return four(y) + "-" + two(m) + "-" + two(d);
}

std::string time_of_day(Rng& rng) {
  std::string t = two(static_cast<int>(rng.below(24))) + ":" + two(static_cast<int>(rng.below(60))) + ":" +
                  two(static_cast<int>(rng.below(60)));
  if (rng.chance(0.3)) t += "." + std::to_string(rng.between(100, 999));
  switch (rng.below(3)) {
    case 0: return t + "Z";
    case 1: return t + "+02:00";
    default: return t + "-05:30";
  }
}

std::string ipv4(Rng& rng) {
  return std::to_string(rng.between(1, 223)) + "." + std::to_string(rng.below(256)) + "." +
         std::to_string(rng.below(256)) + "." + std::to_string(rng.between(1, 254));
}

std::string ipv6(Rng& rng) {
  if (rng.chance(0.2)) return rng.chance(0.5) ? "::1" : "fe80::1";
  std::string out = "2001:db8";
  for (int i = 0; i < 6; ++i) {
    out += ':';
    const auto group = rng.below(0x10000);
    std::string hex;
    for (int shift = 12; shift >= 0; shift -= 4) hex += kHexDigits[(group >> shift) & 0xF];
    hex.erase(0, std::min(hex.find_first_not_of('0'), hex.size() - 1));
    out += hex;
  }
  return out;
}

std::string uuid(Rng& rng) {
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    char c = kHexDigits[rng.below(16)];
    if (i == 12) c = '4';                           // version 4
    if (i == 16) c = kHexDigits[8 + rng.below(4)];  // variant 10xx
    out += c;
  }
  return out;
}

bool all_of(std::string_view text, bool (*pred)(char)) { return std::all_of(text.begin(), text.end(), pred); }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool hex(char c) { return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool alnum(char c) { return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int number(std::string_view text) {
  int v = 0;
  for (char c : text) v = v * 10 + (c - '0');
  return v;
}

bool fits_date(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return false;
  if (!all_of(t.substr(0, 4), digit) || !all_of(t.substr(5, 2), digit) || !all_of(t.substr(8, 2), digit)) return false;
  const int y = number(t.substr(0, 4)), m = number(t.substr(5, 2)), d = number(t.substr(8, 2));
  return m >= 1 && m <= 12 && d >= 1 && d <= days_in(y, m);
}

bool fits_time(std::string_view t) {
  if (t.size() < 9 || t[2] != ':' || t[5] != ':') return false;
  if (!all_of(t.substr(0, 2), digit) || !all_of(t.substr(3, 2), digit) || !all_of(t.substr(6, 2), digit)) return false;
  if (number(t.substr(0, 2)) > 23 || number(t.substr(3, 2)) > 59 || number(t.substr(6, 2)) > 60) return false;
  std::string_view rest = t.substr(8);
  if (!rest.empty() && rest[0] == '.') {
    std::size_t n = 1;
    while (n < rest.size() && digit(rest[n])) ++n;
    if (n == 1) return false;
    rest.remove_prefix(n);
  }
  if (rest == "Z" || rest == "z") return true;
  return rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' && all_of(rest.substr(1, 2), digit) &&
         all_of(rest.substr(4, 2), digit) && number(rest.substr(1, 2)) <= 23 && number(rest.substr(4, 2)) <= 59;
}

bool fits_ipv4(std::string_view t) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = t.find('.', start);
    const std::string_view part = t.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty() || part.size() > 3 || !all_of(part, digit) || (part.size() > 1 && part[0] == '0') ||
        number(part) > 255)
      return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

bool fits_ipv6(std::string_view t) {
  if (t.empty() || t.size() > 45) return false;
  const std::size_t gap = t.find("::");
  if (gap != std::string_view::npos && t.find("::", gap + 1) != std::string_view::npos) return false;
  int groups = 0;
  auto count = [&](std::string_view side) {
    if (side.empty()) return true;
    std::size_t start = 0;
    while (true) {
      const std::size_t colon = side.find(':', start);
      const std::string_view g =
          side.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
      if (colon == std::string_view::npos && g.find('.') != std::string_view::npos) {
        if (!fits_ipv4(g)) return false;
        groups += 2;
        return true;
      }
      if (g.empty() || g.size() > 4 || !all_of(g, hex)) return false;
      ++groups;
      if (colon == std::string_view::npos) return true;
      start = colon + 1;
    }
  };
  if (gap == std::string_view::npos) return count(t) && groups == 8;
  return count(t.substr(0, gap)) && count(t.substr(gap + 2)) && groups <= 7;
}

bool fits_hostname(std::string_view t) {
  if (t.empty() || t.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = t.find('.', start);
    const std::string_view label =
        t.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return alnum(c) || c == '-'; })) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool fits_email(std::string_view t) {
  const std::size_t at = t.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  const std::string_view local = t.substr(0, at);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
  for (char c : local)
    if (!alnum(c) && std::string_view("!#$%&'*+/=?^_`{|}~.-").find(c) == std::string_view::npos) return false;
  const std::string_view domain = t.substr(at + 1);
  return domain.find('.') != std::string_view::npos && fits_hostname(domain);
}

bool fits_uuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? t[i] != '-' : !hex(t[i])) return false;
  }
  return true;
}

bool uri_chars(std::string_view t) {
  return std::none_of(t.begin(), t.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F || c == '"' || c == '<' ||
           c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}';
  });
}

bool fits_uri(std::string_view t) {
  const std::size_t colon = t.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view scheme = t.substr(0, colon);
  if (!(scheme[0] >= 'a' && scheme[0] <= 'z') && !(scheme[0] >= 'A' && scheme[0] <= 'Z')) return false;
  for (char c : scheme)
    if (!alnum(c) && c != '+' && c != '-' && c != '.') return false;
  if (!uri_chars(t)) return false;
  const std::string_view rest = t.substr(colon + 1);
  if (rest.rfind("//", 0) == 0) {
    const std::string_view authority = rest.substr(2, rest.find_first_of("/?#", 2) - 2);
    if (authority.empty()) return false;
  }
  return !rest.empty();
}

bool fits_byte(std::string_view t) {
  if (t.size() % 4 != 0) return false;
  return base64_decode(t).has_value() &&
         std::all_of(t.begin(), t.end(), [](char c) { return alnum(c) || c == '+' || c == '/' || c == '='; }) &&
         t.find('=') >= t.size() - std::min<std::size_t>(t.size(), 2);
}

}  // namespace

const std::vector<std::string_view>& string_formats() {
  static const std::vector<std::string_view> kFormats = {"date",     "date-time", "time",          "email",   "uuid",
                                                         "uri",      "url",       "uri-reference", "ipv4",    "ipv6",
                                                         "hostname", "byte",      "binary",        "password"};
  return kFormats;
}

bool known(std::string_view format) {
  const auto& all = string_formats();
  return std::find(all.begin(), all.end(), format) != all.end();
}

std::optional<std::string> value(std::string_view format, Rng& rng) {
  if (format == "date") return date(rng);
  if (format == "date-time") return date(rng) + "T" + time_of_day(rng);
  if (format == "time") return time_of_day(rng);
  if (format == "email")
    return word(rng, 1, 10) + (rng.chance(0.3) ? "." + word(rng, 1, 6) : "") + "@" + word(rng, 2, 10) + ".example";
  if (format == "uuid") return uuid(rng);
  if (format == "uri" || format == "url" || format == "uri-reference") {
    std::string out = "https://" + word(rng, 3, 10) + ".example/" + word(rng, 1, 8);
    if (rng.chance(0.3)) out += "?q=" + word(rng, 1, 6);
    return out;
  }
  if (format == "ipv4") return ipv4(rng);
  if (format == "ipv6") return ipv6(rng);
  if (format == "hostname") return word(rng, 1, 12) + "." + word(rng, 2, 8) + ".example";
  if (format == "byte") {
    std::string bytes;
    const auto n = rng.between(1, 24);
    for (std::int64_t i = 0; i < n; ++i) bytes += static_cast<char>(rng.below(256));
    return base64_encode(bytes);
  }
  if (format == "binary") return word(rng, 1, 32);
  if (format == "password") {
    static constexpr char kSymbols[] = "!@#$%^&*()-_=+";
    std::string out = word(rng, 6, 14);
    out += kSymbols[rng.below(sizeof(kSymbols) - 1)];
    out += static_cast<char>('A' + rng.below(26));
    out += static_cast<char>('0' + rng.below(10));
    return out;
  }
  return std::nullopt;
}

std::vector<Violation> violations(std::string_view format) {
  if (format == "date")
    return {{"2023-02-29", "day 29 of February in a common year"},
            {"2024-13-01", "month 13"},
            {"2024-00-10", "month 0"},
            {"2024-04-31", "day 31 of April"},
            {"24-1-1", "short date"},
            {"2024/01/01", "slashes instead of dashes"},
            {"not-a-date", "not a date"},
            {"2024-01-01T00:00:00Z", "a date-time where a date is expected"}};
  if (format == "date-time")
    return {{"2024-01-01 25:61:00Z", "hour 25 and minute 61"},
            {"2024-01-01T00:00:00", "no time zone"},
            {"2024-02-30T00:00:00Z", "day 30 of February"},
            {"2024-01-01", "a date without a time"},
            {"1704067200", "epoch seconds"},
            {"yesterday", "not a date-time"}};
  if (format == "time") return {{"24:00:00Z", "hour 24"}, {"12:60:00Z", "minute 60"}, {"noon", "not a time"}};
  if (format == "email")
    return {{"no-at-sign.example", "no '@'"},    {"a@", "no domain"},
            {"@example.com", "no local part"},   {"a@@example.com", "two '@'"},
            {"a b@example.com", "a space"},      {"a..b@example.com", "two dots in a row"},
            {"a@example", "no top-level domain"}};
  if (format == "uuid")
    return {{"123", "too short"},
            {"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "not hex"},
            {"0123456789abcdef0123456789abcdef", "no dashes"},
            {"00000000-0000-0000-0000-0000000000000", "one digit too many"}};
  if (format == "uri-reference") return {{"a b", "a space"}, {"x\x01y", "control character"}, {"<x>", "'<' and '>'"}};
  if (format == "uri" || format == "url")
    return {{"http://", "no host"},
            {"::not a uri", "no scheme, spaces"},
            {"ht tp://x.example", "space in scheme"},
            {"//x.example/\x01", "control character"}};
  if (format == "ipv4")
    return {{"256.1.1.1", "octet 256"},
            {"1.2.3", "three octets"},
            {"01.02.03.004", "leading zeros"},
            {"1.2.3.4.5", "five octets"},
            {"::1", "an IPv6 address"}};
  if (format == "ipv6")
    return {{"1:2:3:4:5:6:7:8:9", "nine groups"},
            {"::g", "not hex"},
            {"1::2::3", "two '::'"},
            {"12345::", "group of five digits"},
            {"127.0.0.1", "an IPv4 address"}};
  if (format == "hostname")
    return {{"-bad-.example", "label starts with '-'"},
            {"a..b", "empty label"},
            {std::string(64, 'a') + ".example", "label of 64 characters"},
            {"under_score.example", "underscore"}};
  if (format == "byte") return {{"not base64!!", "not base64"}, {"abc", "length not a multiple of 4"}};
  return {};
}

bool fits(std::string_view format, std::string_view text) {
  if (format == "date") return fits_date(text);
  if (format == "date-time") {
    const std::size_t t = text.find_first_of("Tt");
    return t == 10 && fits_date(text.substr(0, 10)) && fits_time(text.substr(11));
  }
  if (format == "time") return fits_time(text);
  if (format == "email") return fits_email(text);
  if (format == "uuid") return fits_uuid(text);
  if (format == "uri" || format == "url") return fits_uri(text);
  if (format == "uri-reference") return uri_chars(text);
  if (format == "ipv4") return fits_ipv4(text);
  if (format == "ipv6") return fits_ipv6(text);
  if (format == "hostname") return fits_hostname(text);
  if (format == "byte") return fits_byte(text);
  return true;
}

}  // namespace chaosplus::fuzz::formats
