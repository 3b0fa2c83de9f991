#pragma once
// A small threaded HTTP/1.1 server for control APIs and the demo: keep-alive, pipelining (answers
// in order), 400 on malformed requests, 413 on large bodies, a cap on connections, idle timeouts.
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/units.h"
#include "net/http_message.h"

namespace chaosplus::net {

class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    int max_connections = 512;
    Duration idle_timeout = std::chrono::seconds(30);
    ParserLimits limits = {};
  };

  HttpServer(Options options, Handler handler);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Status start();    // binds+listens; clear error if the address is in use; then serves in background threads
  int port() const;  // the bound port (after start)
  void stop();       // stop accepting, close connections, join threads; idempotent

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chaosplus::net
