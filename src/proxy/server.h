#pragma once
// The standalone proxy server behind `chaosplus proxy`: the data plane plus the
// Toxiproxy-compatible control API, until the halt switch is triggered.
#include <chrono>
#include <cstddef>
#include <string>

#include "core/halt_switch.h"
#include "core/units.h"

namespace chaosplus::proxy {

struct ServerOptions {
  std::string api_host = "127.0.0.1";
  int api_port = 8474;      // Toxiproxy's default; 0 picks a free port
  std::string token;        // non-empty: every API request needs "Authorization: Bearer <token>"
  bool show_token = false;  // print the token once on stderr at start (it was generated for the user)
  // An API request's head must arrive within this of the connection's start (see HttpServer).
  Duration header_timeout = std::chrono::seconds(2);
  std::size_t splice_pipes = 32;  // Engine::Options::splice_pipes: 0 copies every byte
  std::size_t workers = 0;        // extra data-plane processes sharing the listeners (see workers.h)
};

// Prints exactly one line, "chaosplus proxy API listening on <host>:<port>", to stdout (flushed)
// once the API is bound, so a parent process can read the port (and with show_token, the token on
// stderr). Returns 0 after a halt, 3 if the
// API address cannot be bound or the proxy cannot start (the reason goes to stderr).
int run_server(const ServerOptions& options, HaltSwitch& halt);

// 128 random bits as hex, from the kernel's generator: a token for the API.
std::string random_token();

}  // namespace chaosplus::proxy
