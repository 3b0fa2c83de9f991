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
  // Non-empty: once the API is bound, "<host>:<port>\n" is written to this path (a FIFO its caller
  // reads; the runner makes one) and the path is closed. That is how a parent learns the address,
  // never from the log.
  std::string address_to = {};
};

// Once the API is bound, tells its address on `address_to` (when set) and, for people, prints
// "chaosplus proxy API listening on <host>:<port>" on stdout (and with show_token, the token on
// stderr). Returns 0 after a halt, 3 if the API address cannot be bound, the address cannot be
// told, or the proxy cannot start (the reason goes to stderr).
int run_server(const ServerOptions& options, HaltSwitch& halt);

// 128 random bits as hex, from the kernel's generator: a token for the API.
std::string random_token();

}  // namespace chaosplus::proxy
