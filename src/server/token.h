#pragma once
// The server's bearer token: every request that changes anything (POST, PUT, PATCH, DELETE) must
// carry "Authorization: Bearer <token>". It comes from $CHAOSPLUS_TOKEN, else from --token-file,
// else a new random 256-bit token is written to <state_dir>/server.token (mode 0600).
#include <string>
#include <string_view>

#include "core/result.h"

namespace chaosplus::server {

struct Token {
  std::string value;
  std::string origin;  // "$CHAOSPLUS_TOKEN", or the file it was read from or written to
  bool generated = false;
};

// `env_token`: the value of $CHAOSPLUS_TOKEN ("" when unset). A token file must hold one line of
// at least 16 printable characters (no spaces); errors name the file.
Result<Token> resolve_token(std::string_view env_token, const std::string& token_file, const std::string& state_dir);

// 32 random bytes from getrandom(2), as 64 hex digits.
Result<std::string> random_token();

// Whether `header` (an Authorization value) is "Bearer <token>"; the comparison takes the same time
// wherever the strings differ.
bool bearer_matches(std::string_view header, std::string_view token);

}  // namespace chaosplus::server
