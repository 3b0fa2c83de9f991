#pragma once
// A loopback API server that replays recorded exchanges (tests/data/kube/<name>.json) in order: each
// request must match the next recording (method, path, query parameters, the headers the recording
// lists, the Authorization header whether listed or not, a JSON-equal body) and gets its recorded
// response. A request that does not match gets a 500 Status naming the difference, and the
// difference is kept for problems(), so the test fails even if the client swallowed the error.
#include <memory>
#include <string>
#include <vector>

namespace chaosplus::kube::testing {

class ReplayServer {
 public:
  explicit ReplayServer(std::vector<std::string> fixtures);
  ~ReplayServer();
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  std::string url() const;  // "http://127.0.0.1:<port>"
  // "" when every recording was requested, in order, and nothing else was; else what went wrong.
  std::string problems() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The JSON text of a fixture's request or response body ("request" or "response").
std::string fixture_body(const std::string& fixture, const std::string& side);

}  // namespace chaosplus::kube::testing
