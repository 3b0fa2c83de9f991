#include "support/postgres_instance.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "support/support.h"

namespace chaosplus::testing {
namespace {

namespace fs = std::filesystem;

// The newest /usr/lib/postgresql/<version>/bin that has initdb, "" when none.
std::string find_bin_dir() {
  std::error_code ec;
  std::string best;
  int best_version = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    auto bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb")) continue;
    int version = std::atoi(entry.path().filename().c_str());
    if (version > best_version) {
      best_version = version;
      best = bin.string();
    }
  }
  return best;
}

}  // namespace

std::string PostgresInstance::unavailable() {
  if (auto why = needs_root("PostgreSQL runs as the postgres user"); !why.empty()) return why;
  if (find_bin_dir().empty()) return "no PostgreSQL server binaries under /usr/lib/postgresql";
  if (!::getpwnam("postgres")) return "no postgres user";
  return "";
}

PostgresInstance::PostgresInstance() : PostgresInstance(Options{}) {}

PostgresInstance::PostgresInstance(Options options) : options_(std::move(options)) {
  if (auto why = unavailable(); !why.empty()) {
    error_ = why;
    return;
  }
  bin_dir_ = find_bin_dir();
  const passwd* pg = ::getpwnam("postgres");
  std::string tmpl = "/tmp/chaosplus-pg-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  root_ = tmpl;
  data_dir_ = root_ + "/data";
  // The postgres user must reach and own its directory.
  if (::chown(root_.c_str(), pg->pw_uid, pg->pw_gid) != 0 || ::chmod(root_.c_str(), 0700) != 0) {
    error_ = "cannot hand " + root_ + " to the postgres user";
    return;
  }
  std::string output;
  if (!run({"runuser", "-u", "postgres", "--", bin_dir_ + "/initdb", "-k", "-D", data_dir_, "-U", "postgres",
            "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"},
           &output)) {
    error_ = "initdb failed: " + output;
    return;
  }
  port_ = free_port();
  if (!start()) error_ = "pg_ctl start failed: " + log_tail();
}

PostgresInstance::~PostgresInstance() {
  if (running_) stop("immediate");
  if (!root_.empty()) {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
}

bool PostgresInstance::run(const std::vector<std::string>& argv, std::string* output) const {
  Child child(argv);
  auto code = child.wait(std::chrono::seconds(120));
  if (output) *output = child.output();
  return code && *code == 0;
}

std::string PostgresInstance::log_tail() const {
  std::string log = read_file(root_ + "/server.log");
  return log.size() > 2000 ? log.substr(log.size() - 2000) : log;
}

bool PostgresInstance::start() {
  std::string settings = "-c listen_addresses=" + options_.address + " -p " + std::to_string(port_) +
                         " -c unix_socket_directories=" + root_ + " -c fsync=off -c max_connections=50";
  for (const auto& s : options_.settings) settings += " -c " + s;
  running_ = run({"runuser", "-u", "postgres", "--", bin_dir_ + "/pg_ctl", "-D", data_dir_, "-l", root_ + "/server.log",
                  "-o", settings, "-w", "-t", "60", "start"});
  return running_;
}

bool PostgresInstance::stop(const std::string& mode) {
  bool stopped = run(
      {"runuser", "-u", "postgres", "--", bin_dir_ + "/pg_ctl", "-D", data_dir_, "-m", mode, "-w", "-t", "60", "stop"});
  if (stopped) running_ = false;
  return stopped;
}

pid_t PostgresInstance::postmaster_pid() const {
  std::ifstream in(data_dir_ + "/postmaster.pid");
  pid_t pid = 0;
  if (!(in >> pid)) return 0;
  return pid;
}

std::string PostgresInstance::conninfo(const std::string& extra) const {
  std::string text = "host=" + options_.address + " port=" + std::to_string(port_) + " user=postgres dbname=postgres";
  if (!extra.empty()) text += " " + extra;
  return text;
}

std::string PostgresInstance::psql(const std::string& sql) const {
  std::string output;
  bool ok = run({bin_dir_ + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", options_.address, "-p",
                 std::to_string(port_), "-U", "postgres", "-d", "postgres", "-c", sql},
                &output);
  if (!ok) return "ERROR: " + output;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

}  // namespace chaosplus::testing
