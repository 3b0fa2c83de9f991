#include "security/tls_probe.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <memory>

#include "net/socket.h"

namespace chaosplus::security {
namespace {

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

struct Attempt {
  bool configured = false;  // this OpenSSL could offer it
  bool completed = false;
  std::string detail;
};

// One handshake offering only `version` and `ciphers` (a TLS 1.2-and-lower cipher list).
Attempt handshake(const std::string& host, int port, Duration timeout, int version, const std::string& ciphers) {
  Attempt a;
  std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return a;
  SSL_CTX_set_security_level(ctx.get(), 0);
  if (SSL_CTX_set_min_proto_version(ctx.get(), version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), version) != 1) {
    return a;
  }
  if (SSL_CTX_set_cipher_list(ctx.get(), ciphers.c_str()) != 1) {
    ERR_clear_error();
    return a;
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  a.configured = true;
  auto fd = net::connect_tcp(host, port, timeout);
  if (!fd) {
    a.detail = fd.error();
    return a;
  }
  // Blocking with a timeout: one handshake at a time is all this needs.
  const int flags = ::fcntl(fd->get(), F_GETFL);
  ::fcntl(fd->get(), F_SETFL, flags & ~O_NONBLOCK);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
  ::setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  if (!ssl) return a;
  SSL_set_fd(ssl.get(), fd->get());
  SSL_set_tlsext_host_name(ssl.get(), host.c_str());
  if (SSL_connect(ssl.get()) == 1) {
    a.completed = true;
    a.detail = std::string("handshake completed with ") + SSL_get_version(ssl.get()) + " " +
               SSL_CIPHER_get_name(SSL_get_current_cipher(ssl.get()));
    SSL_shutdown(ssl.get());
  } else {
    a.detail = "refused";
  }
  ERR_clear_error();
  return a;
}

}  // namespace

TlsProbeResult probe_tls(const std::string& host, int port, Duration timeout) {
  TlsProbeResult out;
  struct Version {
    int version;
    const char* name;
  };
  for (const Version v : {Version{TLS1_VERSION, "TLS 1.0"}, Version{TLS1_1_VERSION, "TLS 1.1"}}) {
    const Attempt a = handshake(host, port, timeout, v.version, "ALL:@SECLEVEL=0");
    if (!a.configured) {
      out.untested.push_back(std::string(v.name) + ": not in this OpenSSL");
      continue;
    }
    out.accepted.push_back(std::string(v.name) + ": " + a.detail);
    if (a.completed) out.weaknesses.push_back({std::string("offers ") + v.name, a.detail});
  }
  struct CipherClass {
    const char* name;
    const char* ciphers;
  };
  for (const CipherClass c :
       {CipherClass{"NULL", "eNULL:@SECLEVEL=0"}, CipherClass{"export", "EXP:@SECLEVEL=0"},
        CipherClass{"RC4", "RC4:@SECLEVEL=0"}, CipherClass{"DES/3DES", "DES:3DES:@SECLEVEL=0"},
        CipherClass{"anonymous", "aNULL:!eNULL:@SECLEVEL=0"}, CipherClass{"MD5", "MD5:@SECLEVEL=0"}}) {
    const Attempt a = handshake(host, port, timeout, TLS1_2_VERSION, c.ciphers);
    if (!a.configured) {
      out.untested.push_back(std::string(c.name) + ": not in this OpenSSL");
      continue;
    }
    out.accepted.push_back(std::string(c.name) + ": " + a.detail);
    if (a.completed) out.weaknesses.push_back({std::string("offers ") + c.name + " ciphers", a.detail});
  }
  return out;
}

}  // namespace chaosplus::security
