#include "support/pg_lab.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "support/support.h"

namespace chaosplus::testing {

namespace {

const std::vector<PgLab::Member>& lab_members() {
  static const std::vector<PgLab::Member> members{
      {"node1", "127.0.0.11"}, {"node2", "127.0.0.12"}, {"node3", "127.0.0.13"}};
  return members;
}

constexpr const char* psql_path = "/usr/lib/postgresql/15/bin/psql";

// The members in `role`s, from GET /cluster of the first API that answers.
std::vector<std::string> hosts_in_roles(const std::vector<std::string>& roles) {
  for (const auto& m : lab_members()) {
    auto reply = http_request("GET", m.host, PgLab::api_port, "/cluster", {}, std::chrono::seconds(2));
    if (reply.status != 200) continue;
    auto json = nlohmann::json::parse(reply.body, nullptr, false);
    if (json.is_discarded() || !json.contains("members")) continue;
    std::vector<std::string> hosts;
    for (const auto& member : json["members"]) {
      const auto role = member.value("role", "");
      for (const auto& want : roles) {
        if (role == want) hosts.push_back(member.value("host", ""));
      }
    }
    return hosts;
  }
  return {};
}

PgLab::SqlResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                     std::chrono::seconds timeout) {
  Child child(argv, env);
  PgLab::SqlResult result;
  if (auto code = child.wait(timeout)) result.exit_code = *code;
  result.output = child.output();
  return result;
}

}  // namespace

std::string PgLab::missing() {
  std::string why;
  if (::geteuid() != 0) why += " root";
  if (::access("/usr/bin/patroni", X_OK) != 0) why += " patroni";
  if (::access("/usr/bin/etcd", X_OK) != 0) why += " etcd";
  if (::access("/usr/lib/postgresql/15/bin/postgres", X_OK) != 0) why += " postgresql-15";
  if (::access("/usr/bin/g++", X_OK) != 0) why += " g++";  // builds the lab's source-address preload
  return why.empty() ? "" : "the PostgreSQL HA lab needs" + why + " (scripts/setup.sh installs the packages)";
}

std::string PgLab::script() { return source_path("scripts/services/pg-ha-lab.sh"); }

PgLab::PgLab(bool sync) : sync_(sync) {
  const char* dir = std::getenv("LAB_DIR");
  lab_dir_ = dir != nullptr && *dir != '\0' ? dir : "/var/tmp/chaosplus-pg-lab";
  // One lock for the machine, whatever LAB_DIR says: the lab's addresses are fixed.
  lock_fd_ = ::open("/tmp/chaosplus-pg-lab.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  locked_ = lock_fd_ >= 0 &&
            wait_until([this] { return ::flock(lock_fd_, LOCK_EX | LOCK_NB) == 0; }, std::chrono::minutes(15));
}

PgLab::~PgLab() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

PgLab::SqlResult PgLab::script_run(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  std::vector<std::string> argv{"bash", script()};
  argv.insert(argv.end(), args.begin(), args.end());
  // The script takes the lab lock itself unless told that its caller holds it.
  return run(argv, {{"LAB_DIR", lab_dir_}, {"SYNC", sync_ ? "1" : "0"}, {"CHAOSPLUS_LAB_LOCKED", "1"}}, timeout);
}

std::string PgLab::up(std::chrono::seconds timeout) {
  if (!locked()) return "could not take the lab lock /tmp/chaosplus-pg-lab.lock within 15 minutes";
  auto r = script_run({"up"}, timeout);
  if (r.exit_code == 0) return "";
  return "pg-ha-lab.sh up exited with " + std::to_string(r.exit_code) + ":\n" + r.output;
}

std::string PgLab::down(std::chrono::seconds timeout) {
  if (!locked()) return "could not take the lab lock /tmp/chaosplus-pg-lab.lock within 15 minutes";
  auto r = script_run({"down"}, timeout);
  if (r.exit_code == 0) return "";
  return "pg-ha-lab.sh down exited with " + std::to_string(r.exit_code) + ":\n" + r.output;
}

std::string PgLab::release() {
  const char* keep = std::getenv("CHAOSPLUS_LAB_KEEP");
  if (keep != nullptr && std::string(keep) == "1" && healthy()) return "";
  return down();
}

bool PgLab::healthy() { return script_run({"status"}, std::chrono::seconds(30)).exit_code == 0; }

bool PgLab::wait_healthy(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (healthy()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ::poll(nullptr, 0, 250);  // one status costs a few REST calls: poll gently
  }
}

std::string PgLab::status() { return script_run({"status"}, std::chrono::seconds(30)).output; }

std::vector<PgLab::Member> PgLab::members() { return lab_members(); }

std::vector<std::string> PgLab::hosts() {
  std::vector<std::string> out;
  for (const auto& m : lab_members()) out.push_back(m.host);
  return out;
}

std::vector<std::string> PgLab::apis() {
  std::vector<std::string> out;
  for (const auto& m : lab_members()) out.push_back(m.host + ":" + std::to_string(api_port));
  return out;
}

std::vector<std::string> PgLab::etcd_endpoints() {
  return {"http://127.0.0.21:2379", "http://127.0.0.22:2379", "http://127.0.0.23:2379"};
}

std::string PgLab::dsn(const std::string& dbname) {
  std::string hosts_csv;
  std::string ports_csv;
  for (const auto& m : lab_members()) {
    hosts_csv += (hosts_csv.empty() ? "" : ",") + m.host;
    ports_csv += (ports_csv.empty() ? "" : ",") + std::to_string(pg_port);
  }
  return "host=" + hosts_csv + " port=" + ports_csv + " user=postgres dbname=" + dbname +
         " target_session_attrs=read-write connect_timeout=3";
}

std::string PgLab::name_of(const std::string& host) {
  for (const auto& m : lab_members()) {
    if (m.host == host) return m.name;
  }
  return "";
}

std::optional<std::string> PgLab::leader() const {
  auto hosts = hosts_in_roles({"leader"});
  if (hosts.size() != 1) return std::nullopt;
  return hosts.front();
}

std::vector<std::string> PgLab::replicas() const { return hosts_in_roles({"replica", "sync_standby"}); }

PgLab::SqlResult PgLab::run_sql(const std::string& host, const std::string& sql, const std::string& db,
                                std::chrono::seconds timeout) {
  return run({"runuser", "-u", "postgres", "--", psql_path, "-h", host, "-p", std::to_string(pg_port), "-d", db,
              "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql},
             {}, timeout);
}

PgLab::SqlResult PgLab::run_sql_dsn(const std::string& dsn, const std::string& sql, std::chrono::seconds timeout) {
  return run({"runuser", "-u", "postgres", "--", psql_path, "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql}, {},
             timeout);
}

}  // namespace chaosplus::testing
