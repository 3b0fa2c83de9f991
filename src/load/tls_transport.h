#pragma once
// The TLS transport of the load engine's connections (OpenSSL), under the HTTP codec: a shared
// client context (verification, CA file, SNI name, ALPN offer) and a per-connection stream that
// runs its handshake and moves bytes without blocking, inside the worker's epoll loop. A stream
// keeps its last session across reconnects, so a new connection resumes it instead of paying a
// full handshake. Plain TCP needs no object: the worker calls send/recv itself.
//
// read() and write() speak the socket calls' language (bytes, 0 at a clean close, -1 with errno
// EAGAIN while OpenSSL waits for the socket, EPROTO on a TLS failure), so the worker's loop is the
// same for both transports. OpenSSL's headers stay in the .cpp.
#include <sys/types.h>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "load/load_options.h"

struct ssl_ctx_st;
struct ssl_st;
struct ssl_session_st;

namespace chaosplus::load {

class TlsContext {
 public:
  // `host` is the URL's host: a name is sent as SNI and checked against the certificate's names,
  // an IP literal is checked against its IP addresses (and not sent as SNI, RFC 6066).
  static Result<std::shared_ptr<const TlsContext>> create(const TlsSettings& settings, std::string host);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* native() const { return ctx_; }
  const std::string& host() const { return host_; }
  bool host_is_ip() const { return host_is_ip_; }
  bool verify() const { return verify_; }

 private:
  TlsContext() = default;
  ssl_ctx_st* ctx_ = nullptr;
  std::string host_;
  bool host_is_ip_ = false;
  bool verify_ = true;
};

class TlsStream {
 public:
  enum class Handshake { done, in_progress, failed, verify_failed };

  explicit TlsStream(const TlsContext& context) : context_(context) {}
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // A new TLS session over connected socket `fd`, offering the last session for resumption.
  bool start(int fd);
  Handshake handshake();
  bool resumed() const;
  std::string alpn() const;  // the protocol the server chose, empty without ALPN
  ssize_t read(char* buffer, std::size_t size);
  ssize_t write(const char* data, std::size_t size);
  // Ends the TLS session (the socket is the caller's), keeping it for the next start().
  void close();
  // Why the handshake, or the last read or write (EPROTO), failed: OpenSSL's reason, or the
  // certificate check's.
  const std::string& error() const { return error_; }

 private:
  ssize_t result(int n, bool reading);

  const TlsContext& context_;
  ssl_st* ssl_ = nullptr;
  ssl_session_st* session_ = nullptr;
  bool established_ = false;
  std::string error_;
};

}  // namespace chaosplus::load
