#include "server/token.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace chaosplus::server {
namespace {

constexpr std::size_t kMinTokenLength = 16;

Status check_token_text(const std::string& token, const std::string& where) {
  if (token.size() < kMinTokenLength) {
    return Error{where + ": the token must be at least " + std::to_string(kMinTokenLength) + " characters",
                 ErrorCode::invalid_argument};
  }
  for (char c : token) {
    if (c <= ' ' || c == 0x7f) {
      return Error{where + ": the token must be printable characters without spaces", ErrorCode::invalid_argument};
    }
  }
  return ok_status();
}

std::string trim_line_end(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

Result<std::string> random_token() {
  unsigned char bytes[32];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{std::string("getrandom: ") + std::strerror(errno), ErrorCode::io_error};
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Result<Token> resolve_token(std::string_view env_token, const std::string& token_file, const std::string& state_dir) {
  if (!env_token.empty()) {
    Token t{std::string(env_token), "$CHAOSPLUS_TOKEN", false};
    if (auto s = check_token_text(t.value, "$CHAOSPLUS_TOKEN"); !s) return s.failure();
    return t;
  }
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) return Error{token_file + ": cannot read the token file: " + std::strerror(errno), ErrorCode::io_error};
    std::string line;
    std::getline(in, line);
    Token t{trim_line_end(line), token_file, false};
    if (auto s = check_token_text(t.value, token_file); !s) return s.failure();
    return t;
  }
  auto token = random_token();
  if (!token) return token.failure();
  const std::string path = (std::filesystem::path(state_dir) / "server.token").string();
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return Error{state_dir + ": cannot create the state folder: " + ec.message(), ErrorCode::io_error};
  // A new file each time, readable by its owner only; an old token stops working when the server restarts.
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error{path + ": cannot write the token: " + std::strerror(errno), ErrorCode::io_error};
  const std::string line = *token + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::fchmod(fd, 0600);
  ::close(fd);
  if (!written) return Error{path + ": cannot write the token", ErrorCode::io_error};
  return Token{*token, path, true};
}

bool bearer_matches(std::string_view header, std::string_view token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (token.empty() || header.size() <= kBearer.size() || header.substr(0, kBearer.size()) != kBearer) return false;
  std::string_view given = header.substr(kBearer.size());
  // Constant time over the token's length: the length of a token is no secret, its bytes are.
  unsigned char diff = given.size() == token.size() ? 0 : 1;
  for (std::size_t i = 0; i < token.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |= static_cast<unsigned char>(g ^ token[i]);
  }
  return diff == 0;
}

}  // namespace chaosplus::server
