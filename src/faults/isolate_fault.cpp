// isolate: a member of a Patroni cluster cut off from etcd, from its peers, or both, with nftables.
//
// On loopback the kernel gives a connection to 127.0.0.21 the source address 127.0.0.1, whatever
// member opens it, so packets cannot be told apart by address. They are told apart by the process
// that sends them: for the fault's time the member's processes (Patroni, the postmaster and all
// below them; with `peers` the other members' too) move into cgroups of their own, and the rules
// match `socket cgroupv2` in the output hook (every loopback packet passes it). A socket keeps the
// cgroup it was made in, so connections open before the move are matched by their addresses and
// ports instead. Revert deletes the table, moves every process back to the cgroup it came from
// (a process born during the fault goes where its group came from) and removes the cgroups.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "db/patroni.h"
#include "faults/database_faults.h"
#include "faults/nft_faults.h"
#include "faults/nft_rules.h"
#include "faults/system_tool.h"
#include "faults/target_handle.h"
#include "targets/sockets.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

// nft names a cgroup by its path below this directory.
constexpr std::string_view kCgroupBase = "/sys/fs/cgroup";

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Where the cgroup v2 hierarchy is mounted ("/sys/fs/cgroup" or "/sys/fs/cgroup/unified").
Result<std::string> cgroup2_root() {
  std::istringstream mounts(read_all("/proc/self/mounts"));
  std::string device, where, type, rest;
  while (mounts >> device >> where >> type && std::getline(mounts, rest)) {
    if (type == "cgroup2" && (where == kCgroupBase || where.starts_with(std::string(kCgroupBase) + "/"))) return where;
  }
  return Error{"isolate needs the cgroup v2 hierarchy mounted at or under " + std::string(kCgroupBase)};
}

// The cgroup v2 path of a process ("/" or "/system.slice/x.service"), "" when it is gone.
std::string cgroup_of(int pid) {
  std::istringstream lines(read_all("/proc/" + std::to_string(pid) + "/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("0::")) return line.substr(3);
  }
  return {};
}

Status move_to(const std::string& root, const std::string& cgroup, int pid) {
  std::ofstream procs(root + (cgroup == "/" ? "" : cgroup) + "/cgroup.procs");
  procs << pid << std::flush;
  if (!procs) return Error{"cannot move pid " + std::to_string(pid) + " into cgroup " + cgroup};
  return ok_status();
}

std::string new_table_name() {
  static std::atomic<unsigned> serial{0};
  std::random_device random;
  return nft::fault_table_name(static_cast<int>(::getpid()), 1000 + ++serial, static_cast<std::uint32_t>(random()));
}

std::string family_of(const std::string& ip) { return nft::is_ipv6(ip) ? "ip6" : "ip"; }

struct Address {
  std::string ip;
  int port = 0;
};

Address split(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, std::stoi(host_port.substr(colon + 1))};
}

// A process, the cgroup it came from, and which of the fault's cgroups it went to.
struct Moved {
  targets::ProcessId id;
  std::string from;
  std::string group;  // "member" or "peers"
};

struct Peer {
  std::string name;
  Address postgres;
  Address api;
};

std::vector<targets::ProcessId> processes_of(const Address& postgres, const Address& api) {
  std::vector<targets::ProcessId> out;
  for (const Address& a : {api, postgres}) {
    auto listener = targets::listening_process(a.ip, a.port);
    if (!listener) continue;
    for (const auto& id : targets::process_tree(listener->pid)) {
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
  }
  return out;
}

// The established connections of `holders` (their sockets) whose other end is one of `to`.
std::vector<std::string> open_connection_rules(const std::vector<targets::ProcessId>& holders,
                                               const std::vector<Address>& to) {
  std::set<unsigned long long> inodes;
  for (const auto& id : holders) {
    for (auto inode : targets::socket_inodes(id.pid)) inodes.insert(inode);
  }
  std::vector<std::string> rules;
  for (const auto& s : targets::tcp_sockets()) {
    if (s.listening || !inodes.contains(s.inode)) continue;
    const bool wanted = std::any_of(to.begin(), to.end(), [&](const Address& a) {
      return (a.ip == s.remote_ip && a.port == s.remote_port) || (a.ip == s.local_ip && a.port == s.local_port);
    });
    if (!wanted) continue;
    // Both ways: what it sends and what is sent to it.
    const std::string f = family_of(s.local_ip);
    rules.push_back(f + " saddr " + s.local_ip + " " + f + " daddr " + s.remote_ip + " tcp sport " +
                    std::to_string(s.local_port) + " tcp dport " + std::to_string(s.remote_port) + " drop");
    rules.push_back(f + " saddr " + s.remote_ip + " " + f + " daddr " + s.local_ip + " tcp sport " +
                    std::to_string(s.remote_port) + " tcp dport " + std::to_string(s.local_port) + " drop");
  }
  return rules;
}

std::string cgroup_rule(const std::string& cgroup_path, const Address& to) {
  const std::string f = family_of(to.ip);
  return "socket cgroupv2 level 1 \"" + cgroup_path + "\" " + f + " daddr " + to.ip + " tcp dport " +
         std::to_string(to.port) + " drop";
}

class IsolateFault final : public Fault {
 public:
  IsolateFault(TargetHandle& target, targets::PatroniMember member, std::string from, Duration wait)
      : target_(target), member_(std::move(member)), from_(std::move(from)), wait_(wait), table_(new_table_name()) {}

  // Who is cut off from whom, worked out before the record is written.
  Status plan() {
    const auto& spec = *target_.spec().patroni;
    auto root = cgroup2_root();
    if (!root) return Error{root.error()};
    root_ = *root;
    rel_ = root_.size() > kCgroupBase.size() ? root_.substr(kCgroupBase.size() + 1) + "/" : std::string();
    for (const auto& host : {member_.host}) {
      if (!nft::is_loopback_address(host)) return Error{"member " + member_.name + " is at " + host + ", not loopback"};
    }
    const bool etcd = from_ == "etcd" || from_ == "all";
    const bool peers = from_ == "peers" || from_ == "all";
    if (etcd && spec.etcd.empty()) return Error{"isolate from etcd needs the target's patroni.etcd endpoints"};
    for (const auto& e : spec.etcd) etcd_.push_back(split(e));
    if (peers) {
      auto view = db::read_cluster(spec.apis, spec.timeout);
      if (!view) return Error{"cannot ask the Patroni cluster: " + view.error()};
      for (const auto& m : view->members) {
        if (m.name == member_.name) continue;
        peers_.push_back({m.name, {m.host, m.port}, split(targets::api_address(m.api_url))});
      }
    }
    const Address self_pg{member_.host, member_.port};
    const Address self_api = split(member_.api);
    for (const auto& id : processes_of(self_pg, self_api)) moved_.push_back({id, cgroup_of(id.pid), "member"});
    if (moved_.empty()) return Error{"member " + member_.name + " has no running process to cut off"};
    for (const auto& p : peers_) {
      for (const auto& id : processes_of(p.postgres, p.api)) moved_.push_back({id, cgroup_of(id.pid), "peers"});
    }
    // The rules: new connections by cgroup, open ones by their addresses.
    std::vector<targets::ProcessId> self_ids, peer_ids;
    for (const auto& m : moved_) (m.group == "member" ? self_ids : peer_ids).push_back(m.id);
    const std::string member_cgroup = rel_ + table_ + "_member";
    const std::string peers_cgroup = rel_ + table_ + "_peers";
    std::vector<Address> cut;
    if (etcd) {
      for (const auto& e : etcd_) rules_.push_back(cgroup_rule(member_cgroup, e)), cut.push_back(e);
    }
    if (peers) {
      for (const auto& p : peers_) {
        rules_.push_back(cgroup_rule(member_cgroup, p.postgres));
        rules_.push_back(cgroup_rule(member_cgroup, p.api));
        cut.push_back(p.postgres), cut.push_back(p.api);
      }
      rules_.push_back(cgroup_rule(peers_cgroup, self_pg));
      rules_.push_back(cgroup_rule(peers_cgroup, self_api));
    }
    for (auto& r : open_connection_rules(self_ids, cut)) rules_.push_back(std::move(r));
    if (peers) {
      for (auto& r : open_connection_rules(peer_ids, {self_pg, self_api})) rules_.push_back(std::move(r));
    }
    std::sort(rules_.begin(), rules_.end());
    rules_.erase(std::unique(rules_.begin(), rules_.end()), rules_.end());
    return ok_status();
  }

  std::string kind() const override { return std::string(kinds::db_isolate); }
  std::string summary() const override {
    return "isolate " + target_.name() + " " + member_.name + " (" + member_.role + ", " + member_.host + ") from " +
           from_;
  }
  std::string record() const override {
    const auto& spec = *target_.spec().patroni;
    json moved = json::array();
    for (const auto& m : moved_) {
      moved.push_back({{"pid", m.id.pid}, {"start_time", m.id.start_time}, {"from", m.from}, {"group", m.group}});
    }
    json r{{"target", target_.name()},
           {"member", {{"name", member_.name}, {"role", member_.role}, {"host", member_.host}, {"api", member_.api}}},
           {"from", from_},
           {"table", table_},
           {"cgroup_root", root_},
           {"cgroups", {table_ + "_member", table_ + "_peers"}},
           {"moved", moved},
           {"rules", rules_},
           {"apis", spec.apis},
           {"api_timeout_ms", std::chrono::duration_cast<std::chrono::milliseconds>(spec.timeout).count()},
           {"wait_ms", std::chrono::duration_cast<std::chrono::milliseconds>(wait_).count()}};
    if (tool_) r["tool_pid"] = tool_->pid, r["tool_start_time"] = tool_->start_time;
    return r.dump();
  }

  Status inject(HaltSwitch&) override {
    for (const char* group : {"member", "peers"}) {
      std::error_code ec;
      fs::create_directory(root_ + "/" + table_ + "_" + group, ec);
      if (ec) return Error{"cannot make cgroup " + root_ + "/" + table_ + "_" + group + ": " + ec.message()};
    }
    for (const auto& m : moved_) {
      if (!targets::is_alive(m.id)) continue;
      if (auto s = move_to(root_, "/" + table_ + "_" + m.group, m.id.pid); !s) return s;
    }
    std::string script = "table inet " + table_ + " {\n  chain output {\n    type filter hook output priority " +
                         std::to_string(nft::kChainPriority) + "; policy accept;\n";
    for (const auto& r : rules_) script += "    " + r + "\n";
    script += "  }\n}\n";
    auto before = [this](const targets::ProcessId& id) {
      tool_ = id;
      return record_changed();
    };
    if (auto r = run_tool_checked({"nft", "-f", "/dev/stdin"}, script, 10s, before); !r) return Error{r.error()};
    auto listed = run_tool_checked({"nft", "-j", "list", "table", "inet", table_});
    if (!listed) return Error{"added table " + table_ + " but cannot read it back: " + listed.error()};
    auto count = nft::rule_count(*listed);
    if (!count) return Error{count.error()};
    if (*count != static_cast<int>(rules_.size())) {
      return Error{"table " + table_ + " has " + std::to_string(*count) + " rules, expected " +
                   std::to_string(rules_.size())};
    }
    return ok_status();
  }

  Status revert(HaltSwitch&) override { return undo_isolate(record()); }

 private:
  TargetHandle& target_;
  targets::PatroniMember member_;
  std::string from_;
  Duration wait_;
  std::string table_;
  std::string root_;
  std::string rel_;  // the root's path below /sys/fs/cgroup, with a trailing '/', or ""
  std::vector<Address> etcd_;
  std::vector<Peer> peers_;
  std::vector<Moved> moved_;
  std::vector<std::string> rules_;
  std::optional<targets::ProcessId> tool_;
};

// Moves every process out of the fault's cgroups back where it came from, then removes them.
Status release_cgroups(const json& r) {
  const std::string root = r.at("cgroup_root").get<std::string>();
  std::vector<Moved> moved;
  for (const auto& m : r.at("moved")) {
    moved.push_back({{m.at("pid").get<int>(), m.value("start_time", 0ULL)},
                     m.at("from").get<std::string>(),
                     m.at("group").get<std::string>()});
  }
  for (const auto& name : r.at("cgroups")) {
    const std::string group = name.get<std::string>();
    if (!nft::is_fault_table_name(group.substr(0, group.rfind('_')))) {
      return Error{"refusing to touch cgroup '" + group + "': not one of a fault"};
    }
    const std::string dir = root + "/" + group;
    if (!fs::exists(dir)) continue;
    const std::string kind = group.substr(group.rfind('_') + 1);
    // A process born in the cgroup goes where the first process of its group came from.
    std::string fallback = "/";
    for (const auto& m : moved) {
      if (m.group == kind && !m.from.empty()) {
        fallback = m.from;
        break;
      }
    }
    for (int round = 0; round < 50; ++round) {
      std::istringstream procs(read_all(dir + "/cgroup.procs"));
      bool any = false;
      for (int pid = 0; procs >> pid;) {
        any = true;
        std::string to = fallback;
        for (const auto& m : moved) {
          if (m.id.pid == pid && targets::is_alive(m.id) && !m.from.empty()) to = m.from;
        }
        (void)move_to(root, to, pid);  // it may be exiting meanwhile; the next round sees
      }
      std::error_code ec;
      if (!any && (fs::remove(dir, ec) || !fs::exists(dir))) break;
      std::this_thread::sleep_for(20ms);
    }
    if (fs::exists(dir)) return Error{"cannot empty and remove cgroup " + dir};
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<Fault>> make_isolate_fault(TargetHandle& target, const targets::PatroniMember& member,
                                                  const std::string& from, Duration wait) {
  auto fault = std::make_unique<IsolateFault>(target, member, from, wait);
  if (auto s = fault->plan(); !s) return Error{"fault 'isolate' on '" + target.name() + "': " + s.error()};
  return std::unique_ptr<Fault>(std::move(fault));
}

Status undo_isolate(const std::string& record) {
  const json r = json::parse(record);
  if (r.contains("tool_pid")) {
    if (auto s = stop_recorded_tool(r.at("tool_pid").get<int>(), r.value("tool_start_time", 0ULL)); !s) return s;
  }
  if (auto s = remove_nft_table("", r.at("table").get<std::string>()); !s) return s;
  if (auto s = release_cgroups(r); !s) return s;
  return wait_cluster_healthy(record);
}

}  // namespace chaosplus::faults
