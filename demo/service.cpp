#include "service.h"

#include <signal.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "net/socket.h"

namespace chaosplus::demo {

namespace {
std::mutex stop_mutex;
std::condition_variable stop_signalled;
bool stopping = false;
std::atomic<std::uint64_t> requests{0};
}  // namespace

std::uint64_t requests_handled() { return requests.load(); }

void wait_or_stop(Duration duration) {
  std::unique_lock lock(stop_mutex);
  stop_signalled.wait_for(lock, duration, [] { return stopping; });
}

Result<Flags> parse_flags(int argc, char** argv, const std::set<std::string>& known) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return Error{"unexpected argument '" + arg + "'"};
    std::string name = arg.substr(2);
    std::string value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (name != "help") {
      if (i + 1 >= argc) return Error{"--" + name + " needs a value"};
      value = argv[++i];
    }
    if (!known.contains(name)) return Error{"unknown option --" + name};
    auto [it, fresh] = flags.try_emplace(name, value);
    if (!fresh) it->second += "," + value;
  }
  return flags;
}

Result<int> parse_port(const std::string& text) {
  int port = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || ptr != text.data() + text.size() || port < 0 || port > 65535) {
    return Error{"invalid port '" + text + "' (expected 0-65535)"};
  }
  return port;
}

int usage_error(const std::string& program, const std::string& message, const std::string& usage) {
  std::cerr << program << ": " << message << "\n" << usage << std::endl;
  return 2;
}

int serve_until_signalled(const std::string& program, net::HttpServer::Options options,
                          net::HttpServer::Handler handler) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // belt and braces: every send already uses MSG_NOSIGNAL

  const std::string host = options.host;
  net::HttpServer server(std::move(options), [handler = std::move(handler)](const net::Request& request) {
    requests.fetch_add(1, std::memory_order_relaxed);
    return handler(request);
  });
  if (auto started = server.start(); !started) {
    std::cerr << program << ": " << started.error() << std::endl;
    return 1;
  }
  std::cout << "listening on " << net::host_port(host, server.port()) << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);  // fails only for an invalid set, which this is not
  {
    std::lock_guard lock(stop_mutex);
    stopping = true;
  }
  stop_signalled.notify_all();
  server.stop();
  std::cerr << program << ": stopped by signal " << signal_number << " after " << requests_handled() << " requests"
            << std::endl;
  return 0;
}

net::Response json_error(int status, const std::string& message) {
  // Replacing invalid UTF-8 (a message may quote what a peer sent) rather than throwing.
  return net::Response::json(
      status, nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace chaosplus::demo
