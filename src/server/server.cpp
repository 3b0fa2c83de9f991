#include "server/server.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "net/http_server.h"
#include "runner/recovery.h"
#include "server/state.h"
#include "server/token.h"

namespace chaosplus::server {
namespace {

bool changes_something(const std::string& method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

net::Response unauthorized(const std::string& why) {
  auto response = error_json(401, why);
  response.set_header("WWW-Authenticate", "Bearer realm=\"chaosplus\"");
  return response;
}

}  // namespace

struct Server::Impl {
  ServerState state;
  std::unique_ptr<net::HttpServer> http;

  net::Response handle(const net::Request& request) {
    std::string route = "other";
    net::Response response = dispatch(request, route);
    std::lock_guard lock(state.requests_mutex);
    ++state.requests[{route, response.status}];
    return response;
  }

  net::Response dispatch(const net::Request& request, std::string& route) {
    // The token is checked before anything else, so a changing call learns nothing without it.
    if (changes_something(request.method)) {
      std::string_view header = request.header("Authorization");
      if (header.empty()) {
        route = "unauthorized";
        return unauthorized("this call changes something: it needs the header 'Authorization: Bearer <token>'");
      }
      if (!bearer_matches(header, state.options.token)) {
        route = "unauthorized";
        return unauthorized("wrong bearer token");
      }
    }
    const std::string path = request.path();
    if (path == "/metrics") {
      route = "/metrics";
      if (request.method != "GET" && request.method != "HEAD") {
        return error_json(405, "method " + request.method + " is not allowed on /metrics (only GET)");
      }
      return handle_metrics(state);
    }
    if (path == "/api" || path.starts_with("/api/")) return handle_api(state, request, route);
    return handle_dashboard(request, route);
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  if (options.token.empty()) return Error{"the server needs a token", ErrorCode::invalid_argument};
  if (options.program.empty()) {
    std::error_code ec;
    options.program = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) return Error{"cannot find the chaosplus binary (/proc/self/exe): " + ec.message(), ErrorCode::io_error};
  }
  auto impl = std::make_unique<Impl>();
  ServerState& state = impl->state;
  auto store = store::Store::open(options.store);
  if (!store) return store.failure();
  state.store = std::move(store).value();
  auto ledger = runner::Ledger::open(runner::ledger_path(options.state_dir));
  if (!ledger) return ledger.failure();
  state.ledger = std::move(ledger).value();
  state.launcher = std::make_unique<RunLauncher>(
      LaunchSettings{options.program, options.store, options.state_dir, options.runs_dir});
  state.options = std::move(options);

  net::HttpServer::Options http;
  http.host = state.options.host;
  http.port = state.options.port;
  http.max_connections = 128;
  http.limits.max_body = 1024 * 1024;
  http.error_response = [](int status, const std::string& reason) { return error_json(status, reason); };
  Impl* raw = impl.get();
  impl->http = std::make_unique<net::HttpServer>(http, [raw](const net::Request& r) { return raw->handle(r); });
  if (auto s = impl->http->start(); !s) return s.failure();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->http->port(); }

std::string Server::url() const {
  const std::string& host = impl_->state.options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port()) + "/";
}

void Server::stop() {
  if (impl_ && impl_->http) impl_->http->stop();
}

}  // namespace chaosplus::server
