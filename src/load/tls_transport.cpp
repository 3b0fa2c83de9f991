#include "load/tls_transport.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace chaosplus::load {

namespace {

std::string openssl_error() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

// A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own writes with write(2), and a server that
// closes mid-request would raise SIGPIPE in a process that has not ignored it (tests, embedders).
int bio_write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(BIO_get_fd(bio, nullptr), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int bio_read(BIO* bio, char* buffer, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(BIO_get_fd(bio, nullptr), buffer, static_cast<std::size_t>(size), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

const BIO_METHOD* nosignal_socket_method() {
  static BIO_METHOD* method = [] {
    // Starts as a copy of the socket BIO (fd handling, ctrl), then swaps the two I/O calls.
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "chaosplus socket");
    const BIO_METHOD* base = BIO_s_socket();
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_puts(m, BIO_meth_get_puts(base));
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base));
    BIO_meth_set_create(m, BIO_meth_get_create(base));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(base));
    return m;
  }();
  return method;
}

}  // namespace

Result<std::shared_ptr<const TlsContext>> TlsContext::create(const TlsSettings& settings, std::string host) {
  std::shared_ptr<TlsContext> c(new TlsContext());
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  if (c->ctx_ == nullptr) return Error{"TLS: cannot create a context: " + openssl_error()};
  SSL_CTX_set_min_proto_version(c->ctx_, TLS1_2_VERSION);
  // A server that closes without close_notify ends the stream, as a TCP close does; HTTP framing
  // (Content-Length, chunks) still tells a cut response from a whole one.
  SSL_CTX_set_options(c->ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Partial writes let a full socket buffer return what was sent, as send(2) does; released
  // buffers keep an idle TLS connection at a few hundred bytes instead of ~34 KB.
  SSL_CTX_set_mode(c->ctx_,
                   SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  // Sessions are kept by each connection (TlsStream), not in the context's cache.
  SSL_CTX_set_session_cache_mode(c->ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  c->verify_ = settings.verify;
  if (settings.verify) {
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
    if (!settings.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(c->ctx_, settings.ca_file.c_str(), nullptr) != 1)
        return Error{"TLS: cannot load CA file '" + settings.ca_file + "': " + openssl_error()};
    } else if (SSL_CTX_set_default_verify_paths(c->ctx_) != 1) {
      return Error{"TLS: cannot load the system's CA store: " + openssl_error()};
    }
  } else {
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr);
  }
  if (!settings.alpn.empty()) {
    std::string wire;  // length-prefixed protocol names
    for (const auto& p : settings.alpn) {
      if (p.empty() || p.size() > 255) return Error{"TLS: ALPN protocol names are 1 to 255 bytes"};
      wire += static_cast<char>(p.size());
      wire += p;
    }
    if (SSL_CTX_set_alpn_protos(c->ctx_, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0)
      return Error{"TLS: cannot set ALPN: " + openssl_error()};
  }
  in6_addr v6{};
  in_addr v4{};
  c->host_is_ip_ = inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
  c->host_ = std::move(host);
  return std::shared_ptr<const TlsContext>(std::move(c));
}

TlsContext::~TlsContext() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

TlsStream::~TlsStream() {
  close();
  if (session_ != nullptr) SSL_SESSION_free(session_);
}

bool TlsStream::start(int fd) {
  close();
  error_.clear();
  ssl_ = SSL_new(context_.native());
  if (ssl_ == nullptr) {
    error_ = openssl_error();
    return false;
  }
  BIO* bio = BIO_new(nosignal_socket_method());
  if (bio == nullptr) {
    error_ = openssl_error();
    return false;
  }
  BIO_set_fd(bio, fd, BIO_NOCLOSE);
  SSL_set_bio(ssl_, bio, bio);
  if (context_.host_is_ip()) {
    if (context_.verify()) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), context_.host().c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, context_.host().c_str());
    if (context_.verify()) SSL_set1_host(ssl_, context_.host().c_str());
  }
  if (session_ != nullptr) SSL_set_session(ssl_, session_);
  SSL_set_connect_state(ssl_);
  return true;
}

TlsStream::Handshake TlsStream::handshake() {
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    established_ = true;
    return Handshake::done;
  }
  const int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Handshake::in_progress;
  const long verify = SSL_get_verify_result(ssl_);
  if (context_.verify() && verify != X509_V_OK) {
    error_ = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
    ERR_clear_error();
    return Handshake::verify_failed;
  }
  error_ = e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 ? "handshake: connection closed by the server"
                                                           : "handshake: " + openssl_error();
  return Handshake::failed;
}

bool TlsStream::resumed() const { return ssl_ != nullptr && SSL_session_reused(ssl_) == 1; }

std::string TlsStream::alpn() const {
  const unsigned char* p = nullptr;
  unsigned len = 0;
  if (ssl_ != nullptr) SSL_get0_alpn_selected(ssl_, &p, &len);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), len);
}

ssize_t TlsStream::result(int n, bool reading) {
  if (n > 0) return n;
  const int e = SSL_get_error(ssl_, n);
  switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: errno = EAGAIN; return -1;
    case SSL_ERROR_ZERO_RETURN:  // close_notify: a clean end of the stream
      return 0;
    case SSL_ERROR_SYSCALL:
      // A peer that closes without close_notify reads as end of stream, as plain TCP would.
      if (ERR_peek_error() == 0) {
        ERR_clear_error();
        if (reading && errno == 0) return 0;
        if (errno == 0) errno = EPIPE;
        return -1;
      }
      [[fallthrough]];
    default:
      error_ = (reading ? "read: " : "write: ") + openssl_error();
      errno = EPROTO;
      return -1;
  }
}

ssize_t TlsStream::read(char* buffer, std::size_t size) {
  errno = 0;
  ERR_clear_error();  // SSL_get_error reads the thread's error queue: only this call's errors may be in it
  const int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
  return result(n, true);
}

ssize_t TlsStream::write(const char* data, std::size_t size) {
  errno = 0;
  ERR_clear_error();
  const int n = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
  return result(n, false);
}

void TlsStream::close() {
  if (ssl_ == nullptr) return;
  if (established_) {
    // Keep the newest session (TLS 1.3 tickets arrive after the handshake, with the first reads)
    // and mark the shutdown as done without sending, so OpenSSL does not void it at SSL_free.
    if (SSL_SESSION* s = SSL_get1_session(ssl_)) {
      if (SSL_SESSION_is_resumable(s) == 1) {
        if (session_ != nullptr) SSL_SESSION_free(session_);
        session_ = s;
      } else {
        SSL_SESSION_free(s);
      }
    }
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
  SSL_free(ssl_);  // frees the BIO too; the fd is the worker's
  ssl_ = nullptr;
  established_ = false;
}

}  // namespace chaosplus::load
