#pragma once
// A `patroni` target (spec::PatroniRole): the member of a Patroni cluster that holds a role when a
// fault is built, asked from the members' REST APIs, and the processes that embody it on this host
// (its postmaster: the process listening on the member's PostgreSQL address; its Patroni: the one
// listening on its REST API address). docs/databases.md, "Targets by role".
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "db/patroni.h"
#include "spec/experiment.h"
#include "targets/process.h"

namespace chaosplus::targets {

struct PatroniMember {
  std::string name;                     // "node2"
  std::string role;                     // what Patroni said: "leader", "replica", "sync_standby"
  std::string asked;                    // what the target asked for: "primary", "replica", "sync_replica", "any"
  std::string host;                     // where its PostgreSQL listens: "127.0.0.12"
  int port = 0;                         // 5432
  std::string api;                      // its REST API: "127.0.0.12:8008"
  std::string answered_by;              // the API that gave the view the choice was made from
  std::vector<std::string> candidates;  // every member that held the role, in name order
  std::optional<ProcessId> postmaster;  // unset when its PostgreSQL is not running
  std::optional<ProcessId> patroni;     // unset when its Patroni is not running
};

// The member of `view` holding `role` (primary | replica | sync_replica | any). Several candidates
// (replicas) are taken in name order and the first is chosen, so the same cluster always gives the
// same member; `candidates` says who else could have been. A replica counts when it runs or streams.
Result<PatroniMember> pick_member(const db::ClusterView& view, std::string_view role);

// Asks the cluster (db::read_cluster over spec.apis) and picks the member, then finds its
// processes. An error says which role had no member, or what the APIs answered.
Result<PatroniMember> resolve_patroni(const spec::PatroniRole& spec);

// "host:port" of a REST API URL such as "http://127.0.0.12:8008/patroni"; "" when it has none.
std::string api_address(std::string_view api_url);

// The target's `restart` argv with "{member}" replaced by the member's name in every argument.
std::vector<std::string> restart_for(const std::vector<std::string>& restart, const std::string& member);

// Ok when the cluster has one leader that runs and every other of `members` members runs or streams
// as a replica; otherwise what is missing ("no leader", "node2 is stopped", "2 of 3 members").
Status cluster_healthy(const db::ClusterView& view, std::size_t members);

// Asks the cluster until it is healthy (cluster_healthy) or `deadline` passes; the error says what
// the last view lacked.
Status wait_healthy(const std::vector<std::string>& apis, std::size_t members, Duration api_timeout, Duration deadline);

}  // namespace chaosplus::targets
