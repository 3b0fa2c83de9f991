#pragma once
// RFC 9110 token characters (methods, header and trailer field names), as a table: the one
// definition the net parser, the chunked decoder, the load engine's parser and the proxy's framing use.
#include <array>
#include <cstddef>
#include <string_view>

namespace chaosplus::net {

inline constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

inline bool is_token_char(char c) { return kTokenChars[static_cast<unsigned char>(c)]; }

}  // namespace chaosplus::net
