#include "unit/kube/replay_server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <mutex>

#include "net/http_server.h"
#include "support/support.h"

namespace chaosplus::kube::testing {

namespace {

using nlohmann::json;

json load(const std::string& name) {
  std::string path = chaosplus::testing::source_path("tests/data/kube/" + name + ".json");
  json exchange = json::parse(chaosplus::testing::read_file(path), nullptr, false);
  if (exchange.is_discarded()) ADD_FAILURE() << path << ": not JSON";
  return exchange;
}

// "a=1&b=x%2Cy" -> {a: [1], b: [x,y]}: parameters decoded, so encodings that mean the same match.
std::multimap<std::string, std::string> query_of(const std::string& target) {
  std::multimap<std::string, std::string> params;
  auto question = target.find('?');
  if (question == std::string::npos) return params;
  std::string query = target.substr(question + 1);
  std::size_t at = 0;
  while (at <= query.size()) {
    auto amp = query.find('&', at);
    std::string pair = query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      params.emplace(net::percent_decode(pair.substr(0, eq)),
                     eq == std::string::npos ? "" : net::percent_decode(pair.substr(eq + 1)));
    }
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  return params;
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// "" when `request` is the recorded one, else the first difference.
std::string mismatch(const json& recorded, const net::Request& request) {
  const json& want = recorded["request"];
  std::string want_method = want.value("method", "");
  std::string want_target = want.value("path", "");
  if (request.method != want_method) return "method " + request.method + ", recorded " + want_method;
  if (path_of(request.target) != path_of(want_target))
    return "path " + path_of(request.target) + ", recorded " + path_of(want_target);
  if (query_of(request.target) != query_of(want_target))
    return "query of " + request.target + ", recorded " + want_target;
  json headers = want.value("headers", json::object());
  if (!headers.contains("Authorization") && request.has_header("Authorization"))
    return "an Authorization header was sent, the recording has none";
  for (const auto& [name, value] : headers.items())
    if (!request.has_header(name) || request.header(name) != value.get<std::string>())
      return "header " + name + ": \"" + std::string(request.header(name)) + "\", recorded \"" +
             value.get<std::string>() + "\"";
  const json& want_body = want["body"];
  if (want_body.is_null()) {
    if (!request.body.empty()) return "a body was sent, the recording has none: " + request.body;
  } else {
    json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded()) return "the body is not JSON: " + request.body;
    if (body != want_body)
      return "the body differs from the recording:\n  sent     " + body.dump() + "\n  recorded " + want_body.dump() +
             "\n  diff     " + json::diff(want_body, body).dump();
  }
  return "";
}

}  // namespace

struct ReplayServer::Impl {
  std::vector<std::string> names;
  std::vector<json> exchanges;
  mutable std::mutex mutex;
  std::size_t next = 0;  // guarded by mutex
  std::string problems;  // guarded by mutex
  std::unique_ptr<net::HttpServer> server;

  net::Response answer(const net::Request& request) {
    std::lock_guard lock(mutex);
    std::string why;
    if (next >= exchanges.size()) {
      why = "request " + std::to_string(next + 1) + " (" + request.method + " " + request.target + ") is beyond the " +
            std::to_string(exchanges.size()) + " recorded";
    } else if (auto differs = mismatch(exchanges[next], request); !differs.empty()) {
      why = "request " + std::to_string(next + 1) + " (" + request.method + " " + request.target + ") does not match " +
            names[next] + ".json: " + differs;
    }
    if (!why.empty()) {
      problems += why + "\n";
      ++next;  // the test is failing anyway; later requests are judged against later recordings
      json status = {{"kind", "Status"},    {"apiVersion", "v1"},          {"metadata", json::object()},
                     {"status", "Failure"}, {"message", "replay: " + why}, {"reason", "InternalError"},
                     {"code", 500}};
      return net::Response::json(500, status.dump());
    }
    const json& recorded = exchanges[next++]["response"];
    net::Response response;
    response.status = recorded.value("status", 200);
    const json headers = recorded.value("headers", json::object());
    for (const auto& [name, value] : headers.items()) response.set_header(name, value.get<std::string>());
    response.body = recorded["body"].is_null() ? "" : recorded["body"].dump();
    return response;
  }
};

ReplayServer::ReplayServer(std::vector<std::string> fixtures) : impl_(std::make_unique<Impl>()) {
  impl_->names = std::move(fixtures);
  for (const auto& name : impl_->names) impl_->exchanges.push_back(load(name));
  impl_->server = std::make_unique<net::HttpServer>(
      net::HttpServer::Options{}, [impl = impl_.get()](const net::Request& request) { return impl->answer(request); });
  auto started = impl_->server->start();
  if (!started) ADD_FAILURE() << "replay server: " << started.error();
}

ReplayServer::~ReplayServer() { impl_->server->stop(); }

std::string ReplayServer::url() const { return "http://127.0.0.1:" + std::to_string(impl_->server->port()); }

std::string ReplayServer::problems() const {
  std::lock_guard lock(impl_->mutex);
  std::string out = impl_->problems;
  if (impl_->next < impl_->exchanges.size())
    out += "recording " + impl_->names[impl_->next] + ".json (and " +
           std::to_string(impl_->exchanges.size() - impl_->next - 1) + " after it) never requested\n";
  return out;
}

std::string fixture_body(const std::string& fixture, const std::string& side) {
  return load(fixture)[side]["body"].dump();
}

}  // namespace chaosplus::kube::testing
