#include "proxy/server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <random>

#include "core/result.h"
#include "core/tell_line.h"
#include "net/http_server.h"
#include "net/socket.h"
#include "proxy/api.h"
#include "proxy/engine.h"
#include "proxy/workers.h"

namespace chaosplus::proxy {

namespace {

// Every proxied connection takes two descriptors; the usual soft limit of 1024 would cap the
// proxy near 500 connections, so take what the hard limit allows.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

std::string random_token() {
  std::random_device device;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    char part[9];
    std::snprintf(part, sizeof part, "%08x", static_cast<unsigned>(device()));
    out += part;
  }
  return out;
}

int run_server(const ServerOptions& options, HaltSwitch& halt) {
  raise_descriptor_limit();
  Engine::Options engine_options;
  // The pipes of all processes count against one per-user pipe quota (16,384 pages by default for
  // non-root users; 32 pipes of 1 MiB take 8,192): the processes share the pool's size.
  engine_options.splice_pipes =
      options.splice_pipes == 0 ? 0 : std::max<std::size_t>(4, options.splice_pipes / (options.workers + 1));
  engine_options.reuse_port = options.workers > 0;
  std::unique_ptr<Workers> workers;
  if (options.workers > 0) {
    // Forked first: the workers begin as copies of this process, before it has any engine thread.
    auto started = Workers::start(options.workers, engine_options);
    if (!started) {
      std::cerr << "chaosplus proxy: cannot start the workers: " << started.error() << "\n";
      return 3;
    }
    workers = std::move(started).value();
  }
  auto engine = Engine::start(engine_options);
  if (!engine) {
    std::cerr << "chaosplus proxy: " << engine.error() << "\n";
    return 3;
  }
  ControlApi api(**engine, options.token);
  net::HttpServer::Options http;
  http.host = options.api_host;
  http.port = options.api_port;
  http.header_timeout = options.header_timeout;
  http.error_response = &ControlApi::error;
  std::mutex publishing;     // one exchange at a time on the workers' channels
  bool out_of_step = false;  // a change failed in some worker: the next one sends the whole state
  if (workers) {
    // A toxic's counts cover every process serving its proxy, not just this one.
    api.set_peer_stats([&](const std::string& proxy, const std::string& toxic) {
      std::lock_guard lock(publishing);
      return workers->toxic_stats(proxy, toxic);
    });
  }
  net::HttpServer server(http, [&](const net::Request& request) {
    auto response = api.handle(request);
    const auto touched = ControlApi::touched(request, response);
    // Every change, even a partly failed populate, reaches every worker before the client hears
    // of it. Only the proxies it touched are sent: sending all of them made each change cost as
    // much as the proxies there are.
    if (workers && (!touched || !touched->empty())) {
      std::lock_guard lock(publishing);
      StateChange change;
      if (touched && !out_of_step) {
        change.only = *touched;
        for (const auto& name : *touched) {
          if (auto found = (*engine)->proxy(name); found.ok()) change.proxies.push_back(found.value());
        }
      } else {
        change.proxies = (*engine)->proxies();
      }
      auto published = workers->publish(change);
      out_of_step = !published.ok();
      if (!published) {
        // The change holds in this process but not everywhere: the client must not take it as done.
        const std::string message = "the change was made, but a worker process did not take it: " + published.error();
        std::cerr << "chaosplus proxy: " << message << "\n";
        return ControlApi::error(500, message);
      }
    }
    return response;
  });
  if (auto started = server.start(); !started) {
    std::cerr << "chaosplus proxy: cannot serve the API on " << net::host_port(options.api_host, options.api_port)
              << ": " << started.error() << "\n";
    return 3;
  }
  if (options.token.empty() && options.api_host != "127.0.0.1" && options.api_host != "::1" &&
      options.api_host != "localhost") {
    std::cerr << "chaosplus proxy: warning: the API listens beyond loopback without a token; anyone who can "
                 "reach it can open listeners on this host\n";
  }
  const std::string address = net::host_port(options.api_host, server.port());
  if (!options.address_to.empty()) {
    if (auto told = tell_line(options.address_to, address, "the API address"); !told) {
      std::cerr << "chaosplus proxy: " << told.error() << "\n";
      server.stop();
      return 3;
    }
  }
  std::cout << "chaosplus proxy API listening on " << address << std::endl;
  if (options.show_token) {
    // Once, where the user who started the proxy looks; never on a request and never in a file.
    std::cerr << "chaosplus proxy: API token " << options.token
              << " (every request needs 'Authorization: Bearer <token>'; --token or CHAOSPLUS_PROXY_TOKEN sets it, "
                 "--no-token turns it off)"
              << std::endl;
  }
  while (!halt.wait_for(std::chrono::hours(1))) {
  }
  server.stop();
  return 0;
}

}  // namespace chaosplus::proxy
