#include "runner/provenance.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <climits>
#include <cstdio>
#include <fstream>
#include <memory>

#include "runner/redaction.h"

namespace chaosplus::runner {
namespace {

// "key" is broader than redaction.h's secret keys (api_key): SSH_KEY, LICENSE_KEY and the like
// given on a command line are secrets too.
bool looks_secret(std::string_view key) {
  if (is_secret_key(key)) return true;
  std::string lower;
  for (char c : key) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("key") != std::string::npos;
}

// "KEY=VALUE" with the value redacted when KEY looks secret.
std::string redact_assignment(const std::string& assignment) {
  const std::size_t equals = assignment.find('=');
  if (equals == std::string::npos || !looks_secret(assignment.substr(0, equals))) return assignment;
  return assignment.substr(0, equals + 1) + std::string(kRedacted);
}

}  // namespace

std::string chaosplus_version() { return CHAOSPLUS_VERSION; }

Result<std::string> file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path + " to hash it"};
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    return Error{"cannot start a SHA-256 digest"};
  }
  std::array<char, 64 * 1024> buffer{};
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return Error{"cannot read " + path + " to hash it"};
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1) return Error{"cannot finish a SHA-256 digest"};
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    std::array<char, 3> pair{};
    std::snprintf(pair.data(), pair.size(), "%02x", digest[i]);
    hex += pair.data();
  }
  return hex;
}

std::string host_name() {
  std::array<char, HOST_NAME_MAX + 1> name{};
  if (::gethostname(name.data(), name.size()) != 0) return "";
  name.back() = '\0';
  return name.data();
}

std::string redacted_command_line(std::span<const std::string> argv) {
  std::string out;
  bool value_next = false;
  for (const auto& arg : argv) {
    std::string shown = arg;
    if (value_next) {
      shown = redact_assignment(arg);
    } else if (arg.rfind("--var=", 0) == 0) {
      shown = "--var=" + redact_assignment(arg.substr(6));
    }
    value_next = arg == "--var";
    if (!out.empty()) out += ' ';
    out += shown;
  }
  return out;
}

}  // namespace chaosplus::runner
