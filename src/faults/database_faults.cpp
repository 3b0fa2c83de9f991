// Database faults on a member of a Patroni cluster (a `patroni` target, resolved when the fault is
// built: faults/fault.cpp): crash_node kills the member's Patroni and its whole PostgreSQL and starts
// them again on revert; switchover and failover move the leadership through Patroni's REST API and
// revert by waiting for a healthy cluster (and, if asked, switching back); isolate cuts the member off
// with nftables (faults/isolate_fault.cpp). Every record holds what its undo needs: the member, the
// pids, the restart argv, the APIs.
#include <array>
#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "db/patroni.h"
#include "faults/database_faults.h"
#include "faults/registry.h"
#include "faults/target_handle.h"
#include "targets/launch.h"
#include "targets/patroni_target.h"
#include "targets/sockets.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json ids_json(const std::vector<targets::ProcessId>& ids) {
  json out = json::array();
  for (const auto& id : ids) out.push_back({{"pid", id.pid}, {"start_time", id.start_time}});
  return out;
}

Duration ms_in(const json& r, const char* key, Duration fallback) {
  return r.contains(key) ? Duration(std::chrono::milliseconds(r.at(key).get<long long>())) : fallback;
}

long long ms_of(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// The cluster as the record's APIs see it, for reverts from the record alone.
struct ClusterRef {
  std::vector<std::string> apis;
  Duration api_timeout = 5s;
  json to_json() const { return {{"apis", apis}, {"api_timeout_ms", ms_of(api_timeout)}}; }
  static ClusterRef from(const json& r) {
    return {r.at("apis").get<std::vector<std::string>>(), ms_in(r, "api_timeout_ms", 5s)};
  }
};

bool listening(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  return targets::listening_process(address.substr(0, colon), std::stoi(address.substr(colon + 1))).ok();
}

// Waits until `condition` holds on the cluster's view, or `deadline` passes; the error names `what`
// and what the last view said.
Status wait_view(const ClusterRef& cluster, Duration deadline, const std::string& what,
                 const std::function<Status(const db::ClusterView&)>& condition) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  std::string last;
  while (true) {
    auto view = db::read_cluster(cluster.apis, cluster.api_timeout);
    if (view) {
      auto s = condition(*view);
      if (s) return ok_status();
      last = s.error();
    } else {
      last = view.error();
    }
    if (std::chrono::steady_clock::now() >= until) {
      return Error{"waited " + format_duration(deadline) + " for " + what + ": " + last};
    }
    std::this_thread::sleep_for(250ms);
  }
}

Status member_runs(const db::ClusterView& view, const std::string& member) {
  const db::Member* m = view.find(member);
  if (m == nullptr) return Error{member + " is not in the cluster"};
  const bool runs = m->state == "running" || m->state == "streaming";
  if (!runs || m->role == db::MemberRole::other) {
    return Error{member + " is " + std::string(db::role_name(m->role)) + " " + m->state};
  }
  return ok_status();
}

// ---- crash_node --------------------------------------------------------------------------------

// Brings a crashed member back from its record: starts its Patroni with the restart argv unless
// something listens on its API already, then waits until the member runs (leader or replica).
Status bring_member_back(const json& r) {
  const json& m = r.at("member");
  const std::string name = m.at("name").get<std::string>();
  const auto restart = r.value("restart", std::vector<std::string>());
  if (!listening(m.at("api").get<std::string>())) {
    if (restart.empty()) {
      return Error{"member " + name + " of target '" + r.value("target", std::string("?")) +
                   "' is down and its target has no patroni.restart; start its Patroni by hand"};
    }
    spec::ProcessLaunch launch;
    launch.command = restart;
    auto started = targets::spawn(launch, r.value("log", std::string("/dev/null")));
    if (!started) return Error{"restart of member " + name + ": " + started.error()};
  }
  const ClusterRef cluster = ClusterRef::from(r);
  return wait_view(cluster, ms_in(r, "wait_ms", 90s), "member " + name + " to run again",
                   [&](const db::ClusterView& view) { return member_runs(view, name); });
}

class CrashNodeFault final : public Fault {
 public:
  CrashNodeFault(TargetHandle& target, targets::PatroniMember member, Duration wait)
      : target_(target), member_(std::move(member)), wait_(wait) {
    const auto& spec = *target.spec().patroni;
    cluster_ = {spec.apis, spec.timeout};
    restart_ = targets::restart_for(spec.restart, member_.name);
    // What dies with the node: Patroni, the postmaster and everything below them.
    if (member_.patroni) patroni_ = targets::process_tree(member_.patroni->pid);
    if (member_.postmaster) {
      for (const auto& id : targets::process_tree(member_.postmaster->pid)) {
        if (std::find(patroni_.begin(), patroni_.end(), id) == patroni_.end()) postgres_.push_back(id);
      }
    }
  }

  std::string kind() const override { return std::string(kinds::db_crash_node); }
  std::string summary() const override {
    std::string text = "crash_node " + target_.name() + " " + member_.name + " (" + member_.role;
    if (member_.patroni) text += ", patroni pid " + std::to_string(member_.patroni->pid);
    if (member_.postmaster) text += ", postgres pid " + std::to_string(member_.postmaster->pid);
    return text + ")";
  }
  std::string record() const override {
    json r = cluster_.to_json();
    r["target"] = target_.name();
    r["member"] = member_json(member_);
    r["patroni"] = ids_json(patroni_);
    r["postgres"] = ids_json(postgres_);
    r["restart"] = restart_;
    r["log"] = target_.log_path();
    r["wait_ms"] = ms_of(wait_);
    return r.dump();
  }
  bool brings_back() const override { return true; }
  bool back() override { return listening(member_.api); }

  Status inject(HaltSwitch&) override {
    if (!member_.patroni) return Error{"member " + member_.name + " has no Patroni listening on " + member_.api};
    if (restart_.empty()) {
      return Error{"target '" + target_.name() + "' has no patroni.restart: a crashed node could not be started again"};
    }
    // Patroni first, so it cannot start the postmaster again while it dies.
    for (const auto* group : {&patroni_, &postgres_}) {
      for (const auto& id : *group) (void)targets::send_signal(id, SIGKILL, targets::SignalScope::process);
    }
    const auto until = std::chrono::steady_clock::now() + 10s;
    for (const auto* group : {&patroni_, &postgres_}) {
      for (const auto& id : *group) {
        while (targets::is_alive(id)) {
          if (std::chrono::steady_clock::now() >= until) {
            return Error{"sent SIGKILL to pid " + std::to_string(id.pid) + " of member " + member_.name +
                         " but it still runs after 10s"};
          }
          std::this_thread::sleep_for(20ms);
        }
      }
    }
    target_.set_process(std::nullopt);
    return ok_status();
  }
  Status revert(HaltSwitch&) override { return bring_member_back(json::parse(record())); }

  static json member_json(const targets::PatroniMember& m) {
    return {{"name", m.name}, {"role", m.role}, {"asked", m.asked},          {"host", m.host},
            {"port", m.port}, {"api", m.api},   {"candidates", m.candidates}};
  }

 private:
  TargetHandle& target_;
  targets::PatroniMember member_;
  Duration wait_;
  ClusterRef cluster_;
  std::vector<std::string> restart_;
  std::vector<targets::ProcessId> patroni_;
  std::vector<targets::ProcessId> postgres_;
};

// ---- switchover, failover ----------------------------------------------------------------------

const db::Member* leader_of(const db::ClusterView& view) { return view.leader(); }

Status has_leader_other_than(const db::ClusterView& view, const std::string& old) {
  const db::Member* leader = leader_of(view);
  if (leader == nullptr) return Error{"no leader yet"};
  if (leader->name == old) return Error{old + " still leads"};
  if (leader->state != "running") return Error{"new leader " + leader->name + " is " + leader->state};
  return ok_status();
}

// After a switchover or failover: the cluster healthy again within the wait, and with switch_back the
// original leader leading again (a switchover back to it, once the cluster is healthy).
Status settle(const json& r) {
  const ClusterRef cluster = ClusterRef::from(r);
  const Duration wait = ms_in(r, "wait_ms", 60s);
  const std::size_t members = cluster.apis.size();
  auto healthy = [&](const db::ClusterView& view) { return targets::cluster_healthy(view, members); };
  if (auto s = wait_view(cluster, wait, "a healthy cluster", healthy); !s) return s;
  if (!r.value("switch_back", false)) return ok_status();
  const std::string original = r.at("leader").get<std::string>();
  auto view = db::read_cluster(cluster.apis, cluster.api_timeout);
  if (!view) return Error{view.error()};
  const db::Member* leader = view->leader();
  if (leader == nullptr) return Error{"no leader to switch back from"};
  if (leader->name == original) return ok_status();
  if (auto s =
          db::request_switchover(targets::api_address(leader->api_url), leader->name, original, cluster.api_timeout);
      !s) {
    return Error{"switch back to " + original + ": " + s.error()};
  }
  auto back = [&](const db::ClusterView& v) -> Status {
    if (auto s = healthy(v); !s) return s;
    const db::Member* l = v.leader();
    return l->name == original ? ok_status() : Status(Error{l->name + " leads, not " + original});
  };
  return wait_view(cluster, wait, original + " to lead again", back);
}

class LeadershipFault final : public Fault {
 public:
  LeadershipFault(TargetHandle& target, std::string type, targets::PatroniMember member, std::string to, Duration wait,
                  bool switch_back)
      : target_(target),
        type_(std::move(type)),
        member_(std::move(member)),
        to_(std::move(to)),
        wait_(wait),
        switch_back_(switch_back) {
    const auto& spec = *target.spec().patroni;
    cluster_ = {spec.apis, spec.timeout};
  }

  std::string kind() const override { return std::string(kinds::db_leadership); }
  std::string summary() const override {
    return type_ + " " + target_.name() + " from " + leader_ + (candidate_.empty() ? "" : " to " + candidate_);
  }
  std::string record() const override {
    json r = cluster_.to_json();
    r["target"] = target_.name();
    r["fault"] = type_;
    r["member"] = CrashNodeFault::member_json(member_);
    r["leader"] = leader_;
    r["candidate"] = candidate_;
    r["wait_ms"] = ms_of(wait_);
    r["switch_back"] = switch_back_;
    return r.dump();
  }

  // The leader and the candidate are worked out when the fault is built, before the record is written.
  Status plan() {
    auto view = db::read_cluster(cluster_.apis, cluster_.api_timeout);
    if (!view) return Error{"cannot ask the Patroni cluster: " + view.error()};
    const db::Member* leader = view->leader();
    if (leader == nullptr) return Error{"the Patroni cluster has no leader to " + type_ + " from"};
    leader_ = leader->name;
    leader_api_ = targets::api_address(leader->api_url);
    // `to`, else the target's member when it is not the leader (switchover to this replica), else
    // Patroni's choice.
    candidate_ = !to_.empty() ? to_ : (member_.name != leader_ ? member_.name : std::string());
    if (!candidate_.empty() && view->find(candidate_) == nullptr) {
      return Error{type_ + " to '" + candidate_ + "': no such member in the cluster"};
    }
    if (candidate_ == leader_) return Error{type_ + " to '" + candidate_ + "': it is the leader already"};
    if (type_ == "failover" && candidate_.empty()) {
      return Error{"failover needs a candidate: 'to', or a target whose role is not primary"};
    }
    return ok_status();
  }

  Status inject(HaltSwitch&) override {
    auto s = type_ == "failover" ? db::request_failover(leader_api_, candidate_, cluster_.api_timeout)
                                 : db::request_switchover(leader_api_, leader_, candidate_, cluster_.api_timeout);
    if (!s) return Error{type_ + " of " + leader_ + ": " + s.error()};
    return wait_view(cluster_, wait_, "a new leader after the " + type_,
                     [&](const db::ClusterView& view) { return has_leader_other_than(view, leader_); });
  }
  Status revert(HaltSwitch&) override { return settle(json::parse(record())); }

 private:
  TargetHandle& target_;
  std::string type_;
  targets::PatroniMember member_;
  std::string to_;
  Duration wait_;
  bool switch_back_;
  ClusterRef cluster_;
  std::string leader_;
  std::string leader_api_;
  std::string candidate_;
};

// ---- the family -------------------------------------------------------------------------------

constexpr std::array<std::string_view, 3> kIsolateFrom{"etcd", "peers", "all"};
// clang-format off
constexpr std::array<spec::FaultParam, 1> kCrashParams{{
    {"wait", spec::ParamKind::duration, "90s", false, {},
     "a duration such as 90s: how long the revert waits for the member to run again"},
}};
constexpr std::array<spec::FaultParam, 3> kSwitchoverParams{{
    {"to", spec::ParamKind::text, "", false, {},
     "a member name such as node2: the new leader; default the target's member if it is not the leader, else Patroni's choice"},
    {"wait", spec::ParamKind::duration, "1m", false, {},
     "a duration such as 60s: how long to wait for the new leader, and on revert for a healthy cluster"},
    {"switch_back", spec::ParamKind::text, "false", false, {},
     "true or false: on revert, switch over back to the leader of before"},
}};
constexpr std::array<spec::FaultParam, 3> kFailoverParams{{
    {"to", spec::ParamKind::text, "", false, {},
     "a member name such as node2: the new leader; default the target's member (which must not be the leader)"},
    {"wait", spec::ParamKind::duration, "1m", false, {},
     "a duration such as 60s: how long to wait for the new leader, and on revert for a healthy cluster"},
    {"switch_back", spec::ParamKind::text, "false", false, {},
     "true or false: on revert, switch over back to the leader of before"},
}};
constexpr std::array<spec::FaultParam, 2> kIsolateParams{{
    {"from", spec::ParamKind::choice, "etcd", false, kIsolateFrom,
     "etcd, peers or all: cut the member off from the etcd endpoints, from the other members, or both"},
    {"wait", spec::ParamKind::duration, "90s", false, {},
     "a duration such as 90s: how long the revert waits for a healthy cluster"},
}};
// clang-format on

// switch_back is written as a YAML boolean; a text parameter keeps it as written.
std::vector<spec::ParamProblem> check_leadership(const spec::Fault& fault) {
  std::vector<spec::ParamProblem> problems;
  if (auto it = fault.params.find("switch_back");
      it != fault.params.end() && it->second != "true" && it->second != "false") {
    problems.push_back({"switch_back", "switch_back: found '" + it->second + "', expected true or false"});
  }
  return problems;
}

const std::array<spec::FaultType, 4>& types() {
  using spec::Capability;
  static const std::array<spec::FaultType, 4> kTypes{{
      {"crash_node", Capability::patroni_member, kCrashParams,
       "SIGKILL the member's Patroni and its whole PostgreSQL; start them again on revert"},
      {"isolate", Capability::patroni_member, kIsolateParams,
       "cut the member off from etcd, from its peers, or both (nftables on loopback)", true},
      {"switchover", Capability::patroni_member, kSwitchoverParams,
       "move the leadership to another member through Patroni's REST API (a planned switchover)", false,
       check_leadership},
      {"failover", Capability::patroni_member, kFailoverParams,
       "make a chosen member the leader through Patroni's REST API (a manual failover)", false, check_leadership},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 3> kKinds{kinds::db_crash_node, kinds::db_leadership, kinds::db_isolate};

Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  const auto member = target.member();
  if (!member)
    return Error{"fault '" + fault.type + "' needs a 'patroni' target, and '" + target.name() + "' is not one"};
  auto params = spec::FaultParams::read(*spec::find_fault_type(fault.type), fault);
  if (!params) return Error{params.error()};
  if (fault.type == "crash_node") {
    return std::unique_ptr<Fault>(std::make_unique<CrashNodeFault>(target, *member, params->duration("wait")));
  }
  if (fault.type == "switchover" || fault.type == "failover") {
    auto f = std::make_unique<LeadershipFault>(target, fault.type, *member, params->text("to"),
                                               params->duration("wait"), params->text("switch_back") == "true");
    if (auto s = f->plan(); !s) return Error{"fault '" + fault.type + "' on '" + target.name() + "': " + s.error()};
    return std::unique_ptr<Fault>(std::move(f));
  }
  if (fault.type == "isolate") {
    return make_isolate_fault(target, *member, params->text("from"), params->duration("wait"));
  }
  return Error{"'" + fault.type + "' is not a database fault"};
}

Status undo_database_fault(std::string_view kind, std::string_view record) {
  json r = json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  if (kind == kinds::db_crash_node) return bring_member_back(r);
  if (kind == kinds::db_leadership) return settle(r);
  if (kind == kinds::db_isolate) return undo_isolate(r.dump());
  return ok_status();
}

}  // namespace

Status wait_cluster_healthy(const std::string& record) {
  json r = json::parse(record);
  const ClusterRef cluster = ClusterRef::from(r);
  return targets::wait_healthy(cluster.apis, cluster.apis.size(), cluster.api_timeout, ms_in(r, "wait_ms", 90s));
}

FaultFamily database_fault_family() { return {"database", types(), kKinds, make, undo_database_fault}; }

}  // namespace chaosplus::faults
