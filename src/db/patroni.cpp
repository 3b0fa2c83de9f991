#include "db/patroni.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/allowed_hosts.h"
#include "core/loopback.h"
#include "net/http_client.h"

namespace chaosplus::db {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Patroni 3.x says leader, standby_leader (the leader of a standby cluster), sync_standby, replica;
// older versions said master; newer ones add quorum_standby (a synchronous standby by quorum).
MemberRole role_of(const std::string& role) {
  if (role == "leader" || role == "master" || role == "primary" || role == "standby_leader") return MemberRole::leader;
  if (role == "sync_standby" || role == "quorum_standby") return MemberRole::sync_standby;
  if (role == "replica") return MemberRole::replica;
  return MemberRole::other;
}

// "127.0.0.11:8008", "http://127.0.0.11:8008" or a member's api_url ("http://127.0.0.11:8008/patroni"):
// the endpoint's base URL with `path`, loopback only.
Result<net::Url> api_url(std::string_view api, std::string_view path) {
  std::string text(api);
  if (text.find("://") == std::string::npos) text = "http://" + text;
  auto base = net::Url::parse(text);
  if (!base) return Error{"Patroni API \"" + std::string(api) + "\": " + base.error(), ErrorCode::invalid_argument};
  if (!allowed_hosts().allows_host(base->host))
    return Error{"Patroni API \"" + std::string(api) + "\" is not on the allow-list; " + allow_hint(),
                 ErrorCode::invalid_argument};
  net::Url url = *base;
  url.target = std::string(path);
  return url;
}

Result<net::Response> call(std::string_view api, std::string method, std::string_view path, std::string body,
                           Duration timeout) {
  auto url = api_url(api, path);
  if (!url) return url.failure();
  net::Request request;
  request.method = std::move(method);
  request.target = url->target;
  if (!body.empty()) {
    request.set_header("Content-Type", "application/json");
    request.body = std::move(body);
  }
  return net::fetch(*url, std::move(request), timeout);
}

std::string shorten(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

Error field_error(const std::string& where, std::size_t index, const std::string& field, const std::string& expected) {
  return Error{
      "GET /cluster from " + where + ": members[" + std::to_string(index) + "]." + field + ": expected " + expected,
      ErrorCode::invalid_argument};
}

std::optional<long long> integer_of(const json& value) {
  if (value.is_number_integer()) return value.get<long long>();
  if (value.is_number_unsigned()) return static_cast<long long>(value.get<unsigned long long>());
  if (value.is_number_float()) return static_cast<long long>(value.get<double>());
  return std::nullopt;
}

Status post_action(std::string_view api, std::string_view path, const json& body, Duration timeout) {
  auto reply = call(api, "POST", path, body.dump(), timeout);
  if (!reply)
    return Error{"POST " + std::string(path) + " to " + std::string(api) + ": " + reply.error(), reply.code()};
  if (reply->status >= 200 && reply->status < 300) return ok_status();
  return Error{"POST " + std::string(path) + " to " + std::string(api) + ": Patroni answered " +
                   std::to_string(reply->status) + ": " + shorten(reply->body),
               reply->status >= 500 ? ErrorCode::unavailable : ErrorCode::invalid_argument};
}

}  // namespace

const Member* ClusterView::leader() const {
  auto it = std::find_if(members.begin(), members.end(), [](const Member& m) { return m.role == MemberRole::leader; });
  return it == members.end() ? nullptr : &*it;
}

const Member* ClusterView::find(std::string_view name) const {
  auto it = std::find_if(members.begin(), members.end(), [&](const Member& m) { return m.name == name; });
  return it == members.end() ? nullptr : &*it;
}

std::string_view role_name(MemberRole role) {
  switch (role) {
    case MemberRole::leader: return "leader";
    case MemberRole::sync_standby: return "sync_standby";
    case MemberRole::replica: return "replica";
    case MemberRole::other: break;
  }
  return "other";
}

Result<ClusterView> parse_cluster(std::string_view text, std::string answered_by) {
  const std::string where = answered_by.empty() ? "a Patroni API" : answered_by;
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return Error{"GET /cluster from " + where + ": the answer is not JSON: " + shorten(std::string(text)),
                 ErrorCode::invalid_argument};
  if (!doc.is_object() || !doc.contains("members") || !doc["members"].is_array())
    return Error{"GET /cluster from " + where + ": expected an object with a \"members\" array",
                 ErrorCode::invalid_argument};

  ClusterView view;
  view.answered_by = std::move(answered_by);
  const auto& members = doc["members"];
  for (std::size_t i = 0; i < members.size(); ++i) {
    const json& m = members[i];
    if (!m.is_object()) return field_error(where, i, "", "an object");
    Member member;
    if (!m.contains("name") || !m["name"].is_string()) return field_error(where, i, "name", "a string");
    member.name = m["name"].get<std::string>();
    auto text_field = [&](const char* key, std::string& out) -> Status {
      if (!m.contains(key) || m[key].is_null()) return ok_status();
      if (!m[key].is_string()) return field_error(where, i, key, "a string");
      out = m[key].get<std::string>();
      return ok_status();
    };
    std::string role;
    if (auto s = text_field("role", role); !s) return s.failure();
    member.role = role_of(role);
    if (auto s = text_field("state", member.state); !s) return s.failure();
    if (auto s = text_field("host", member.host); !s) return s.failure();
    if (auto s = text_field("api_url", member.api_url); !s) return s.failure();
    if (m.contains("port") && !m["port"].is_null()) {
      const json& port = m["port"];
      std::optional<long long> value = integer_of(port);
      if (!value && port.is_string()) {
        const auto& s = port.get_ref<const std::string&>();
        if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) && s.size() < 6)
          value = std::stoll(s);
      }
      if (!value || *value < 0 || *value > 65535) return field_error(where, i, "port", "a port number");
      member.port = static_cast<int>(*value);
    }
    if (m.contains("timeline") && !m["timeline"].is_null()) {
      member.timeline = integer_of(m["timeline"]);
      if (!member.timeline) return field_error(where, i, "timeline", "a number");
    }
    // Replicas: bytes behind the leader, or "unknown" when Patroni has no position for the member.
    if (m.contains("lag") && !m["lag"].is_null()) {
      const json& lag = m["lag"];
      if (lag.is_string()) {
        if (lag.get_ref<const std::string&>() != "unknown")
          return field_error(where, i, "lag", "a number of bytes or \"unknown\"");
      } else {
        member.lag_bytes = integer_of(lag);
        if (!member.lag_bytes) return field_error(where, i, "lag", "a number of bytes or \"unknown\"");
      }
    }
    view.members.push_back(std::move(member));
  }
  return view;
}

Result<ClusterView> read_cluster(const std::vector<std::string>& apis, Duration timeout) {
  if (apis.empty()) return Error{"no Patroni API to ask", ErrorCode::invalid_argument};
  // One deadline for all, shared fairly: a silent first member must not eat the time of the others.
  const auto deadline = Clock::now() + timeout;
  std::string errors;
  for (std::size_t i = 0; i < apis.size(); ++i) {
    auto left = deadline - Clock::now();
    if (left <= Duration::zero()) {
      errors += "; no time left to ask " + apis[i];
      break;
    }
    Duration share = left / static_cast<long>(apis.size() - i);
    auto reply = call(apis[i], "GET", "/cluster", {}, share);
    std::string why;
    if (!reply) {
      if (reply.code() == ErrorCode::invalid_argument) return reply.failure();  // not loopback: say so at once
      why = reply.error();
    } else if (reply->status != 200) {
      why = "answered " + std::to_string(reply->status) + ": " + shorten(reply->body);
    } else {
      auto view = parse_cluster(reply->body, apis[i]);
      if (view) return view;
      why = view.error();
    }
    errors += (errors.empty() ? "" : "; ") + apis[i] + ": " + why;
  }
  return Error{"no Patroni API answered GET /cluster: " + errors, ErrorCode::unavailable};
}

bool answers_primary(std::string_view api, Duration timeout) {
  auto reply = call(api, "GET", "/primary", {}, timeout);
  return reply.ok() && reply->status == 200;
}

Status request_switchover(std::string_view api, std::string_view leader, std::string_view candidate, Duration timeout) {
  json body = {{"leader", std::string(leader)}};
  if (!candidate.empty()) body["candidate"] = std::string(candidate);
  return post_action(api, "/switchover", body, timeout);
}

Status request_failover(std::string_view api, std::string_view candidate, Duration timeout) {
  return post_action(api, "/failover", json{{"candidate", std::string(candidate)}}, timeout);
}

}  // namespace chaosplus::db
