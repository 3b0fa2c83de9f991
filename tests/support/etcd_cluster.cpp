#include "support/etcd_cluster.h"

#include <signal.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

namespace chaosplus::testing {

struct EtcdCluster::Member {
  std::string name;
  std::string host;
  int client_port = 0;
  int peer_port = 0;
  std::vector<std::string> wrapper;
  std::unique_ptr<Child> process;
  bool paused = false;
};

namespace {

constexpr const char* kEtcd = "/usr/bin/etcd";

// The JSON object in an HTTP body (the support client does not undo chunked encoding).
nlohmann::json json_in(const std::string& body) {
  const auto begin = body.find('{');
  const auto end = body.rfind('}');
  if (begin == std::string::npos || end == std::string::npos || end < begin) return {};
  return nlohmann::json::parse(body.substr(begin, end - begin + 1), nullptr, /*allow_exceptions=*/false);
}

}  // namespace

namespace {
EtcdClusterOptions with_members(int members) {
  EtcdClusterOptions options;
  options.members = members;
  return options;
}
}  // namespace

EtcdCluster::EtcdCluster(int members) : EtcdCluster(with_members(members)) {}

EtcdCluster::EtcdCluster(EtcdClusterOptions options) : options_(std::move(options)) {
  for (int i = 0; i < options_.members; ++i) {
    auto member = std::make_unique<Member>();
    member->name = "m" + std::to_string(i);
    member->host = static_cast<std::size_t>(i) < options_.hosts.size() && !options_.hosts[i].empty() ? options_.hosts[i]
                                                                                                     : "127.0.0.1";
    if (static_cast<std::size_t>(i) < options_.wrappers.size()) member->wrapper = options_.wrappers[i];
    members_.push_back(std::move(member));
  }
  // A port free when picked may be taken by another test before etcd binds it: then the whole
  // cluster starts again on new ports (they are all in every member's --initial-cluster).
  for (int attempt = 1;; ++attempt) {
    if (start_all()) return;
    const bool port_taken = [&] {
      for (std::size_t i = 0; i < members_.size(); ++i)
        if (log(i).find("address already in use") != std::string::npos) return true;
      return false;
    }();
    if (!port_taken || attempt == 3) return;
    for (std::size_t i = 0; i < members_.size(); ++i) {
      members_[i]->process.reset();
      std::filesystem::remove_all(data_dir(i));
    }
  }
}

bool EtcdCluster::start_all() {
  initial_cluster_.clear();
  for (auto& member : members_) {
    member->client_port = free_port();
    member->peer_port = free_port();
    if (!initial_cluster_.empty()) initial_cluster_ += ",";
    initial_cluster_ += member->name + "=http://" + member->host + ":" + std::to_string(member->peer_port);
  }
  // All at once: a member of a new cluster waits for a quorum of its peers before it serves.
  for (std::size_t i = 0; i < members_.size(); ++i) start(i, true);
  error_.clear();
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!wait_healthy(i, options_.start_timeout)) {
      error_ = "etcd member " + std::to_string(i) + " (" + endpoint(i) + ") not healthy within " +
               std::to_string(options_.start_timeout.count()) + "ms; its log:\n" + log(i);
      return false;
    }
  }
  return true;
}

EtcdCluster::~EtcdCluster() {
  for (auto& member : members_) member->process.reset();  // SIGKILL, reaped
}

void EtcdCluster::start(std::size_t i, bool initial) {
  auto& m = *members_[i];
  const std::string scheme = options_.cert_file.empty() ? "http://" : "https://";
  const std::string client_url = scheme + m.host + ":" + std::to_string(m.client_port);
  const std::string peer_url = "http://" + m.host + ":" + std::to_string(m.peer_port);
  std::vector<std::string> argv = m.wrapper;
  argv.insert(argv.end(),
              {kEtcd, "--name", m.name, "--data-dir", data_dir(i), "--listen-client-urls", client_url,
               "--advertise-client-urls", client_url, "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls",
               peer_url, "--initial-cluster", initial_cluster_, "--initial-cluster-token", "chaosplus-test",
               "--initial-cluster-state", initial ? "new" : "existing"});
  if (!options_.cert_file.empty()) {
    argv.insert(argv.end(), {"--cert-file", options_.cert_file, "--key-file", options_.key_file});
    if (!options_.trusted_ca_file.empty()) argv.insert(argv.end(), {"--trusted-ca-file", options_.trusted_ca_file});
    if (options_.client_cert_auth) argv.push_back("--client-cert-auth");
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  m.process = std::make_unique<Child>(argv);
  m.paused = false;
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < members_.size(); ++i) out.push_back(endpoint(i));
  return out;
}

std::string EtcdCluster::endpoint(std::size_t i) const {
  const auto& m = *members_.at(i);
  return (options_.cert_file.empty() ? "http://" : "https://") + m.host + ":" + std::to_string(m.client_port);
}

int EtcdCluster::client_port(std::size_t i) const { return members_.at(i)->client_port; }
pid_t EtcdCluster::pid(std::size_t i) const { return members_.at(i)->process->pid(); }
std::string EtcdCluster::log(std::size_t i) const { return members_.at(i)->process->output(); }
std::string EtcdCluster::data_dir(std::size_t i) const { return dir_.file(members_.at(i)->name + ".etcd"); }

bool EtcdCluster::running(std::size_t i) const { return members_.at(i)->process->running(); }

void EtcdCluster::kill(std::size_t i) {
  auto& m = *members_.at(i);
  m.process->signal(SIGKILL);
  m.process->wait(std::chrono::seconds(10));
  m.paused = false;
}

void EtcdCluster::pause(std::size_t i) {
  auto& m = *members_.at(i);
  m.process->signal(SIGSTOP);
  m.paused = true;
  // The signal takes effect a moment later: until then the member may still take a request.
  wait_until([&] { return process_state(m.process->pid()) == 'T' || !m.process->running(); }, std::chrono::seconds(5));
}

void EtcdCluster::resume(std::size_t i) {
  auto& m = *members_.at(i);
  m.process->signal(SIGCONT);
  m.paused = false;
  wait_until([&] { return process_state(m.process->pid()) != 'T'; }, std::chrono::seconds(5));
}

bool EtcdCluster::restart(std::size_t i, std::chrono::milliseconds timeout) {
  if (running(i)) kill(i);
  // Its data folder holds the member's identity: it rejoins as the same member.
  start(i, !std::filesystem::exists(data_dir(i) + "/member"));
  return wait_healthy(i, timeout);
}

std::string EtcdCluster::member_status(std::size_t i, std::chrono::milliseconds timeout) const {
  const auto& m = *members_.at(i);
  return http_request("POST", m.host, m.client_port, "/v3/maintenance/status", "{}", timeout).body;
}

bool EtcdCluster::healthy(std::size_t i) const {
  const auto& m = *members_.at(i);
  if (!m.process->running() || m.paused) return false;
  if (!options_.cert_file.empty())
    return m.process->output().find("ready to serve client requests") != std::string::npos;
  auto reply = http_request("GET", m.host, m.client_port, "/health", {}, std::chrono::seconds(2));
  return reply.status == 200 && json_in(reply.body).value("health", std::string{}) == "true";
}

bool EtcdCluster::wait_healthy(std::size_t i, std::chrono::milliseconds timeout) const {
  return wait_until([&] { return healthy(i) || !members_.at(i)->process->running(); }, timeout) && healthy(i);
}

int EtcdCluster::leader(std::chrono::milliseconds timeout) const {
  int found = -1;
  wait_until(
      [&] {
        // Every member's id, and the leader each one names; the answer is the member they agree on.
        std::vector<std::string> ids(members_.size());
        std::set<std::string> named;
        for (std::size_t i = 0; i < members_.size(); ++i) {
          if (!members_[i]->process->running() || members_[i]->paused) continue;
          auto status = json_in(member_status(i, std::chrono::seconds(1)));
          if (!status.is_object()) continue;
          ids[i] = status.value("header", nlohmann::json::object()).value("member_id", std::string{});
          const auto leader = status.value("leader", std::string{});
          if (!leader.empty() && leader != "0") named.insert(leader);
        }
        if (named.size() != 1) return false;
        for (std::size_t i = 0; i < ids.size(); ++i) {
          if (!ids[i].empty() && ids[i] == *named.begin()) {
            found = static_cast<int>(i);
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

}  // namespace chaosplus::testing
