#pragma once
// The standalone proxy server behind `chaosplus proxy`: the data plane plus the
// Toxiproxy-compatible control API, until the halt switch is triggered.
#include <cstddef>
#include <string>

#include "core/halt_switch.h"

namespace chaosplus::proxy {

struct ServerOptions {
  std::string api_host = "127.0.0.1";
  int api_port = 8474;  // Toxiproxy's default; 0 picks a free port
  std::string token;    // non-empty: every API request needs "Authorization: Bearer <token>"
  std::size_t splice_pipes = 32;  // Engine::Options::splice_pipes: 0 copies every byte
  std::size_t workers = 0;        // extra data-plane processes sharing the listeners (see workers.h)
};

// Prints exactly one line, "chaosplus proxy API listening on <host>:<port>", to stdout (flushed)
// once the API is bound, so a parent process can read the port. Returns 0 after a halt, 3 if the
// API address cannot be bound or the proxy cannot start (the reason goes to stderr).
int run_server(const ServerOptions& options, HaltSwitch& halt);

}  // namespace chaosplus::proxy
