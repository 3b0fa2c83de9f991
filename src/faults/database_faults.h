#pragma once
// The database fault family (crash_node, isolate, switchover, failover) on a `patroni` target:
// faults/database_faults.cpp, with isolate in faults/isolate_fault.cpp. docs/faults.md,
// "Database faults".
#include <memory>
#include <string>
#include <string_view>

#include "faults/fault.h"
#include "targets/patroni_target.h"

namespace chaosplus::faults {

namespace kinds {
inline constexpr std::string_view db_crash_node = "db.crash_node";  // pids killed, restart argv
inline constexpr std::string_view db_leadership = "db.leadership";  // switchover, failover
inline constexpr std::string_view db_isolate = "db.isolate";        // nft table, cgroups and who was moved
}  // namespace kinds

// isolate: the member cut off `from` etcd, peers or all; waits up to `wait` on revert for a healthy cluster.
Result<std::unique_ptr<Fault>> make_isolate_fault(TargetHandle& target, const targets::PatroniMember& member,
                                                  const std::string& from, Duration wait);
// Takes an isolate off from its record alone: the table deleted, every process moved back, the
// cgroups removed; then waits for a healthy cluster.
Status undo_isolate(const std::string& record);
// Waits for the cluster of a record (apis, api_timeout_ms, wait_ms) to be healthy.
Status wait_cluster_healthy(const std::string& record);

}  // namespace chaosplus::faults
