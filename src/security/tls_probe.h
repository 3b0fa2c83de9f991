#pragma once
// What an https target accepts that it should not: TLS 1.0 and 1.1, and weak cipher classes (NULL,
// export, RC4, DES and 3DES, anonymous key exchange, MD5 MACs) under TLS 1.2. One handshake each,
// with OpenSSL restricted to that version or class (and its security level lowered so that it may
// offer them at all); a handshake that completes is the evidence.
#include <string>
#include <vector>

#include "core/units.h"

namespace chaosplus::security {

struct TlsWeakness {
  std::string signature;  // "offers TLS 1.0", "offers RC4 ciphers"
  std::string evidence;   // "handshake completed with TLSv1 ECDHE-RSA-AES128-SHA"
};

struct TlsProbeResult {
  std::vector<TlsWeakness> weaknesses;
  std::vector<std::string> accepted;  // every version/class tried and what happened, for a summary
  std::vector<std::string> untested;  // classes this OpenSSL cannot offer ("RC4: not in this OpenSSL")
};

TlsProbeResult probe_tls(const std::string& host, int port, Duration timeout);

}  // namespace chaosplus::security
