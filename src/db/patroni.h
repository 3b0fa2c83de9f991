#pragma once
// Asking a Patroni cluster who is who, through its REST API (GET /cluster on any member that
// answers), and asking it to switch over or fail over. The Patroni targets, the database faults, the
// write workload (the time a new primary first answers /primary) and the lab tests use it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::db {

enum class MemberRole { leader, sync_standby, replica, other };

struct Member {
  std::string name;  // Patroni's member name: "node1"
  MemberRole role = MemberRole::other;
  std::string state;    // "running", "streaming", "stopped", "starting", ...
  std::string host;     // where its PostgreSQL listens: "127.0.0.11"
  int port = 0;         // 5432
  std::string api_url;  // its REST API: "http://127.0.0.11:8008/patroni"
  std::optional<long long> timeline;
  std::optional<long long> lag_bytes;  // replicas: bytes behind the leader, when Patroni says
};

struct ClusterView {
  std::string answered_by;  // the API endpoint ("127.0.0.11:8008") that gave this view
  std::vector<Member> members;
  const Member* leader() const;  // nullptr when there is none (an election is on)
  const Member* find(std::string_view name) const;
};

// The cluster as the first of `apis` ("127.0.0.11:8008", loopback only) that answers GET /cluster
// within `timeout` sees it; the error lists what each endpoint said.
Result<ClusterView> read_cluster(const std::vector<std::string>& apis, Duration timeout);
// Parses a GET /cluster body (Patroni 3.x JSON); exposed for tests with recorded answers.
Result<ClusterView> parse_cluster(std::string_view json, std::string answered_by);

// True when the member's API answers 200 to GET /primary (it holds the leader lock and runs as a
// primary), false on 503 or no answer within `timeout`.
bool answers_primary(std::string_view api, Duration timeout);

// POST /switchover {leader, candidate} (candidate "" = Patroni picks) or /failover {candidate}, sent
// to `api`; ok when Patroni accepted it (2xx). The error carries Patroni's answer.
Status request_switchover(std::string_view api, std::string_view leader, std::string_view candidate, Duration timeout);
Status request_failover(std::string_view api, std::string_view candidate, Duration timeout);

std::string_view role_name(MemberRole role);  // "leader", "sync_standby", "replica", "other"

}  // namespace chaosplus::db
