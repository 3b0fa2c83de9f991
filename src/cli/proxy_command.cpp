#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/signal_watcher.h"
#include "core/units.h"
#include "proxy/server.h"
#include "spec/loader.h"

namespace chaosplus::cli {

void add_proxy_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "proxy", "Run the fault proxy server with its Toxiproxy-compatible HTTP API until stopped (Ctrl-C)");
  struct Options {
    std::string api = "127.0.0.1:8474";
    std::string token;
    bool no_token = false;
    std::string header_timeout = "2s";
    std::size_t splice_pipes = 32;
    std::size_t workers = 0;
    std::string address_to;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--api", o->api, "address of the control API (default 127.0.0.1:8474; port 0 picks a free one)");
  // Also from the environment: a token on the command line is visible to every user in `ps`.
  auto* token = cmd->add_option("--token", o->token,
                                "require 'Authorization: Bearer TOKEN' on every API request (or set "
                                "CHAOSPLUS_PROXY_TOKEN, which other users cannot read in the process list); without "
                                "either, a random token is made and printed once on stderr")
                    ->envname("CHAOSPLUS_PROXY_TOKEN");
  cmd->add_flag("--no-token", o->no_token,
                "serve the API without a token: anyone who can reach it may open listeners on this host")
      ->excludes(token);
  cmd->add_option("--header-timeout", o->header_timeout,
                  "an API request's line and headers must arrive within this of the connection's start, or the "
                  "connection is dropped (default 2s)");
  cmd->add_option("--splice-pipes", o->splice_pipes,
                  "pipes for zero-copy splice(2) on links without toxics (default 32, 2 descriptors each, "
                  "shared out among the processes with --workers; 0 copies every byte through user space)");
  cmd->add_option("--workers", o->workers,
                  "extra processes that serve connections on the same ports (SO_REUSEPORT), each with its own "
                  "descriptor limit: a proxied connection takes 2 descriptors (default 0)")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--address-to", o->address_to,
                  "once the API is bound, write its address (HOST:PORT and a newline) to this path, a FIFO the "
                  "caller reads (how `chaosplus run` learns the address of the proxy it starts)");
  cmd->callback([o, &exit_code] {
    auto endpoint = spec::parse_endpoint(o->api);
    if (!endpoint && o->api.ends_with(":0")) {
      endpoint = spec::Endpoint{o->api.substr(0, o->api.size() - 2), 0};
    }
    if (!endpoint) {
      std::cerr << "proxy: --api " << endpoint.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    auto header_timeout = parse_duration(o->header_timeout);
    if (!header_timeout || *header_timeout <= Duration::zero()) {
      std::cerr << "proxy: --header-timeout '" << o->header_timeout
                << "': expected a positive duration such as 2s or 500ms\n";
      exit_code = kExitInvalid;
      return;
    }
    proxy::ServerOptions options;
    options.api_host = endpoint->host;
    options.api_port = endpoint->port;
    options.header_timeout = *header_timeout;
    options.token = o->token;
    if (options.token.empty() && !o->no_token) {
      // Anyone on the host can reach a loopback port: an unguarded API is an explicit choice.
      options.token = proxy::random_token();
      options.show_token = true;
    }
    options.splice_pipes = o->splice_pipes;
    options.workers = o->workers;
    options.address_to = o->address_to;
    HaltSwitch halt;
    SignalWatcher watcher(halt);
    exit_code = proxy::run_server(options, halt);
  });
}

}  // namespace chaosplus::cli
