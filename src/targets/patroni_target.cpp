#include "targets/patroni_target.h"

#include <algorithm>
#include <thread>

#include "targets/sockets.h"

namespace chaosplus::targets {
namespace {

bool runs(const db::Member& m) { return m.state == "running" || m.state == "streaming"; }

bool holds(const db::Member& m, std::string_view role) {
  if (role == "primary") return m.role == db::MemberRole::leader && m.state == "running";
  // Patroni 3.0 says "running" for a replica, later versions "streaming".
  if (role == "replica") {
    return (m.role == db::MemberRole::replica || m.role == db::MemberRole::sync_standby) && runs(m);
  }
  if (role == "sync_replica") return m.role == db::MemberRole::sync_standby && runs(m);
  if (role == "any") return m.role != db::MemberRole::other && runs(m);
  return false;
}

}  // namespace

std::string api_address(std::string_view api_url) {
  auto rest = api_url;
  if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) rest.remove_prefix(scheme + 3);
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  return std::string(rest);
}

Result<PatroniMember> pick_member(const db::ClusterView& view, std::string_view role) {
  std::vector<const db::Member*> candidates;
  for (const auto& m : view.members) {
    if (holds(m, role)) candidates.push_back(&m);
  }
  if (candidates.empty()) {
    std::string seen;
    for (const auto& m : view.members) {
      seen += (seen.empty() ? "" : ", ") + m.name + " " + std::string(db::role_name(m.role)) + " " + m.state;
    }
    return Error{"no member of the Patroni cluster (asked " + view.answered_by + ") is " +
                 (role == "primary" ? "a running primary" : "a running " + std::string(role)) +
                 "; members: " + (seen.empty() ? "none" : seen)};
  }
  std::sort(candidates.begin(), candidates.end(), [](auto* a, auto* b) { return a->name < b->name; });
  const db::Member& chosen = *candidates.front();
  PatroniMember out;
  out.name = chosen.name;
  out.role = std::string(db::role_name(chosen.role));
  out.asked = std::string(role);
  out.host = chosen.host;
  out.port = chosen.port;
  out.api = api_address(chosen.api_url);
  out.answered_by = view.answered_by;
  for (auto* c : candidates) out.candidates.push_back(c->name);
  return out;
}

Result<PatroniMember> resolve_patroni(const spec::PatroniRole& spec) {
  auto view = db::read_cluster(spec.apis, spec.timeout);
  if (!view) return Error{"cannot ask the Patroni cluster: " + view.error()};
  auto member = pick_member(*view, spec.role);
  if (!member) return member;
  if (member->host.empty() || member->port == 0) {
    return Error{"Patroni does not say where member " + member->name + "'s PostgreSQL listens"};
  }
  if (auto pm = listening_process(member->host, member->port)) member->postmaster = *pm;
  if (const auto colon = member->api.rfind(':'); colon != std::string::npos) {
    if (auto p = listening_process(member->api.substr(0, colon), std::stoi(member->api.substr(colon + 1)))) {
      member->patroni = *p;
    }
  }
  return member;
}

std::vector<std::string> restart_for(const std::vector<std::string>& restart, const std::string& member) {
  std::vector<std::string> out;
  for (std::string arg : restart) {
    for (auto at = arg.find("{member}"); at != std::string::npos; at = arg.find("{member}", at + member.size())) {
      arg.replace(at, 8, member);
    }
    out.push_back(std::move(arg));
  }
  return out;
}

Status cluster_healthy(const db::ClusterView& view, std::size_t members) {
  const db::Member* leader = view.leader();
  if (leader == nullptr) return Error{"no leader"};
  if (leader->state != "running") return Error{"leader " + leader->name + " is " + leader->state};
  for (const auto& m : view.members) {
    if (&m == leader) continue;
    if (m.role == db::MemberRole::leader) return Error{"two leaders: " + leader->name + " and " + m.name};
    if (!runs(m)) return Error{m.name + " is " + (m.state.empty() ? "in no known state" : m.state)};
  }
  if (view.members.size() < members) {
    return Error{std::to_string(view.members.size()) + " of " + std::to_string(members) + " members are known"};
  }
  return ok_status();
}

Status wait_healthy(const std::vector<std::string>& apis, std::size_t members, Duration api_timeout,
                    Duration deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  std::string last = "not asked";
  while (true) {
    auto view = db::read_cluster(apis, api_timeout);
    if (view) {
      auto healthy = cluster_healthy(*view, members);
      if (healthy) return ok_status();
      last = healthy.error();
    } else {
      last = view.error();
    }
    if (std::chrono::steady_clock::now() >= until) {
      return Error{"the Patroni cluster is not healthy after " + format_duration(deadline) + ": " + last};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace chaosplus::targets
