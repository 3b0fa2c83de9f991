#include "fuzz/encoding.h"

#include <array>
#include <cstdint>

namespace chaosplus::fuzz {
namespace {

// Length of the valid UTF-8 sequence at `i` (1..4), or 0 when the bytes there are not one.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) low = 0xA0;   // no overlong forms
    if (b0 == 0xED) high = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return length;
}

// A surrogate stored WTF-8 style at `i`: its code point, else 0.
std::uint32_t wtf8_surrogate(std::string_view text, std::size_t i) {
  if (i + 3 > text.size()) return 0;
  const auto b0 = static_cast<unsigned char>(text[i]);
  const auto b1 = static_cast<unsigned char>(text[i + 1]);
  const auto b2 = static_cast<unsigned char>(text[i + 2]);
  if (b0 != 0xED || b1 < 0xA0 || b1 > 0xBF || b2 < 0x80 || b2 > 0xBF) return 0;
  return 0xD000u | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
}

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";

constexpr bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

constexpr bool keep(unsigned char c, PercentMode mode) {
  if (unreserved(c)) return true;
  switch (mode) {
    case PercentMode::path_segment:
      return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
             c == ',' || c == ';' || c == '=' || c == ':' || c == '@';
    case PercentMode::query:
    case PercentMode::form: return false;
    case PercentMode::cookie:
      // cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E, minus '%' (the escape itself)
      return c == 0x21 || (c >= 0x23 && c <= 0x2B && c != '%') || (c >= 0x2D && c <= 0x3A) ||
             (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
  }
  return false;
}

void write_json_string(const std::string& text, std::string& out) {
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
      }
      ++i;
    } else if (std::uint32_t surrogate = wtf8_surrogate(text, i); surrogate != 0) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kLowerHex[(surrogate >> shift) & 0xF];
      i += 3;
    } else if (std::size_t length = utf8_sequence(text, i); length > 0) {
      out.append(text, i, length);
      i += length;
    } else {
      out += static_cast<char>(c);  // invalid UTF-8: sent as is, on purpose
      ++i;
    }
  }
  out += '"';
}

void write_json(const nlohmann::json& value, std::string& out) {
  switch (value.type()) {
    case nlohmann::json::value_t::string: write_json_string(value.get_ref<const std::string&>(), out); return;
    case nlohmann::json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value) {
        if (!first) out += ',';
        first = false;
        write_json(item, out);
      }
      out += ']';
      return;
    }
    case nlohmann::json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) out += ',';
        first = false;
        write_json_string(key, out);
        out += ':';
        write_json(item, out);
      }
      out += '}';
      return;
    }
    default: out += value.dump(); return;  // null, booleans and numbers (NaN and infinities as null)
  }
}

}  // namespace

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string percent_encode(std::string_view text, PercentMode mode) {
  // Table-driven, sized once: huge generated values (up to a MiB) pass through here.
  static constexpr auto kKeep = [] {
    std::array<std::array<bool, 256>, 4> t{};
    for (std::size_t m = 0; m < t.size(); ++m)
      for (unsigned c = 0; c < 256; ++c) t[m][c] = keep(static_cast<unsigned char>(c), static_cast<PercentMode>(m));
    return t;
  }();
  const auto& kept = kKeep[static_cast<std::size_t>(mode)];
  const bool plus = mode == PercentMode::form;
  std::size_t size = 0;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    size += kept[c] || (plus && c == ' ') ? 1 : 3;
  }
  std::string out(size, '\0');
  char* w = out.data();
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (kept[c]) {
      *w++ = ch;
    } else if (plus && c == ' ') {
      *w++ = '+';
    } else {
      *w++ = '%';
      *w++ = kHex[c >> 4];
      *w++ = kHex[c & 0xF];
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  static constexpr auto kValues = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = c - 'A';
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = c - 'a' + 26;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = c - '0' + 52;
    t['+'] = 62;
    t['/'] = 63;
    return t;
  }();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    const int v = kValues[static_cast<unsigned char>(ch)];
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

std::string json_text(const nlohmann::json& value) {
  std::string out;
  write_json(value, out);
  return out;
}

std::string scalar_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return json_text(value);
}

std::string code_point_bytes(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

bool strict_json(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::string: return valid_utf8(value.get_ref<const std::string&>());
    case nlohmann::json::value_t::array:
      for (const auto& item : value)
        if (!strict_json(item)) return false;
      return true;
    case nlohmann::json::value_t::object:
      for (const auto& [key, item] : value.items())
        if (!valid_utf8(key) || !strict_json(item)) return false;
      return true;
    default: return true;
  }
}

}  // namespace chaosplus::fuzz
