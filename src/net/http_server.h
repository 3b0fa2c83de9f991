#pragma once
// A small threaded HTTP/1.1 server for control APIs and the demo: keep-alive, pipelining (answers
// in order), 400 on malformed requests, 413 on large bodies, a cap on connections, a short deadline
// for each request's head and idle timeouts. At the cap, a new connection takes the place of the
// connection that has waited longest for a request; only when every connection is busy in the
// handler is it turned away with 503. So idle or slow clients cannot lock others out. A handler
// may answer with a streamed body (Response::stream, for Server-Sent Events): it runs on the
// connection's thread, which is busy (never evicted) until it returns.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/units.h"
#include "net/http_parser.h"

namespace chaosplus::net {

// Where a streamed response (Response::stream) writes its body. Every call returns false once the
// client has gone or the server is stopping: the stream function should then return.
class ResponseStream {
 public:
  // Sends `bytes` now; false also when a send stalls past the server's idle timeout.
  virtual bool write(std::string_view bytes) = 0;
  // Waits up to `d` (the pause between two polls of whatever the stream follows); false as soon as
  // the client closes the connection or the server stops.
  virtual bool wait(Duration d) = 0;

 protected:
  ~ResponseStream() = default;
};

class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    int max_connections = 512;
    // A request's line and headers must arrive within this of the connection's start (of the
    // first byte of a later request on a kept-alive connection), or the connection is dropped.
    Duration header_timeout = std::chrono::seconds(2);
    // A kept-alive connection may wait this long for its next request; a request must arrive
    // whole within this of its first byte.
    Duration idle_timeout = std::chrono::seconds(30);
    ParserLimits limits = {};
    // Renders the server's own refusals (400, 408, 413, 431, 503...); plain text when unset.
    std::function<Response(int status, const std::string& reason)> error_response;
  };

  HttpServer(Options options, Handler handler);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Status start();    // binds+listens; clear error if the address is in use; then serves in background threads
  int port() const;  // the bound port (after start)
  // Connections waiting for a request (idle keep-alive, or a head still arriving): the ones an
  // eviction at the cap may take.
  int waiting_connections() const;
  void stop();  // stop accepting, close connections, join threads; idempotent

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chaosplus::net
