#pragma once
// A real `chaosplus server` for integration tests: started on a free loopback port with its own
// state, store, runs and experiments folders, and a client for its API (header only: it needs the
// net module, which the integration tests link and the support library does not).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <filesystem>

#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "net/socket.h"
#include "support/support.h"

namespace chaosplus::testing {

inline constexpr const char* kServerToken = "server-test-token-0123456789";

class ServerProcess {
 public:
  // `experiments`: the experiments folder ("" for an empty one in the temp folder).
  explicit ServerProcess(const std::string& experiments = {}, std::vector<std::string> extra = {},
                         std::map<std::string, std::string> env = {{"CHAOSPLUS_TOKEN", kServerToken}}) {
    experiments_ = experiments.empty() ? dir_.file("experiments") : experiments;
    std::filesystem::create_directories(experiments_);
    std::vector<std::string> argv = {
        bin("chaosplus"),        "server",     "--state-dir",     dir_.file("state"), "--store",
        dir_.file("results.db"), "--runs-dir", dir_.file("runs"), "--experiments",    experiments_};
    bool listen_given = false;
    for (const auto& a : extra) listen_given = listen_given || a == "--listen";
    if (!listen_given) {
      argv.push_back("--listen");
      argv.push_back("127.0.0.1:0");
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_ = std::make_unique<Child>(argv, env);
    const std::regex line("chaosplus server on http://([0-9.]+):([0-9]+)/");
    wait_until(
        [&] {
          std::smatch m;
          const std::string out = child_->output();
          if (!std::regex_search(out, m, line)) return !child_->running();
          host_ = m[1];
          port_ = std::stoi(m[2]);
          return true;
        },
        std::chrono::seconds(20));
    EXPECT_GT(port_, 0) << child_->output();
  }

  int port() const { return port_; }
  const std::string& host() const { return host_; }
  const std::string& experiments() const { return experiments_; }
  std::string state_dir() const { return dir_.file("state"); }
  std::string store() const { return dir_.file("results.db"); }
  Child& child() { return *child_; }

  // One request; `token` "" sends no Authorization header.
  net::Response call(const std::string& method, const std::string& target, const std::string& body = {},
                     const std::string& token = kServerToken,
                     std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    net::Request request;
    request.method = method;
    request.target = target;
    request.body = body;
    if (!token.empty()) request.set_header("Authorization", "Bearer " + token);
    if (!body.empty()) request.set_header("Content-Type", "application/json");
    net::Url url;
    url.scheme = "http";
    url.host = "127.0.0.1";
    url.port = port_;
    url.target = target;
    auto response = net::fetch(url, request, timeout);
    EXPECT_TRUE(response.ok()) << method << " " << target << ": " << response.error();
    return response.ok() ? *response : net::Response{};
  }
  net::Response get(const std::string& target) { return call("GET", target, {}, {}); }

 private:
  TempDir dir_;
  std::string experiments_;
  std::unique_ptr<Child> child_;
  std::string host_;
  int port_ = 0;
};

// One Server-Sent Event as read off the wire.
struct SseEvent {
  long long id = 0;
  std::string type;
  std::string data;
};

// Reads an event stream until the server closes it (or `timeout`); `last_event_id` as a browser
// sends it on a reconnect. The status line is returned in `status`.
inline std::vector<SseEvent> read_event_stream(int port, const std::string& target, const std::string& last_event_id,
                                               int& status,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(90)) {
  status = 0;
  std::vector<SseEvent> events;
  auto fd = net::connect_tcp("127.0.0.1", port, std::chrono::seconds(5));
  if (!fd) return events;
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  if (!last_event_id.empty()) request += "Last-Event-ID: " + last_event_id + "\r\n";
  request += "\r\n";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!net::send_all(fd->get(), request, deadline)) return events;
  std::string bytes;
  char chunk[16384];
  while (net::wait_readable(fd->get(), deadline)) {
    ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
    if (n <= 0) break;
    bytes.append(chunk, static_cast<std::size_t>(n));
    // Only a 200 has a stream to read; other answers (204) leave a kept-alive connection open.
    if (bytes.find("\r\n\r\n") != std::string::npos && !bytes.starts_with("HTTP/1.1 200")) break;
  }
  auto head_end = bytes.find("\r\n\r\n");
  if (bytes.size() > 12) status = std::stoi(bytes.substr(9, 3));
  if (head_end == std::string::npos) return events;
  std::string body = bytes.substr(head_end + 4);
  std::size_t at = 0;
  SseEvent current;
  bool any = false;
  while (at < body.size()) {
    auto end = body.find('\n', at);
    if (end == std::string::npos) break;  // an unfinished line: not an event
    std::string line = body.substr(at, end - at);
    at = end + 1;
    if (line.empty()) {
      if (any) events.push_back(current);
      current = {};
      any = false;
      continue;
    }
    if (line.starts_with("id: ")) current.id = std::stoll(line.substr(4)), any = true;
    else if (line.starts_with("event: ")) current.type = line.substr(7), any = true;
    else if (line.starts_with("data: "))
      current.data += (current.data.empty() ? "" : "\n") + line.substr(6), any = true;
  }
  return events;
}

}  // namespace chaosplus::testing
