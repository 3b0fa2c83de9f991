#include "support/lab.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "support/support.h"

namespace chaosplus::testing {
namespace {

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// Start time of a process (field 22 of /proc/PID/stat), "" when it is gone: the script records it
// beside the pid so a pid reused by another process is never signalled.
std::string start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return {};
  auto paren = stat.rfind(") ");
  if (paren == std::string::npos) return {};
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return field;
  }
  return {};
}

// etcdctl logs its retries to stderr as JSON lines; its answer alone goes to stdout, so stderr
// goes to a file the error messages quote.
std::vector<std::string> quiet(const std::string& stderr_path, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"sh", "-c", "exec \"$@\" 2>\"$0\"", stderr_path});
  return argv;
}

LabOutput finish(Child& child, std::chrono::milliseconds timeout) {
  auto code = child.wait(timeout);
  return {code.value_or(-1), child.output()};
}

}  // namespace

std::string missing_for_lab() {
  std::string missing;
  if (::geteuid() != 0) missing += " root";
  for (const char* tool : {"ip", "etcd", "etcdctl"}) {
    if (!on_path(tool)) missing += std::string(" ") + tool;
  }
  return missing;
}

Lab::Lab(LabOptions options) : options_(std::move(options)), state_("/var/tmp/" + options_.prefix) {
  auto up = script({"up", std::to_string(options_.nodes)}, std::chrono::seconds(120));
  if (up.code != 0) {
    std::string logs = log_tails();
    script({"down"}, std::chrono::seconds(60));
    throw std::runtime_error("scripts/lab.sh up " + std::to_string(options_.nodes) + " failed (" +
                             std::to_string(up.code) + "):\n" + up.output + "\n" + logs);
  }
  for (const auto& line : read_lines(state_ + "/lab.env")) {
    auto eq = line.find('=');
    if (eq != std::string::npos) env_[line.substr(0, eq)] = line.substr(eq + 1);
  }
}

Lab::~Lab() {
  auto down = script({"down"}, std::chrono::seconds(90));
  if (down.code != 0) std::fprintf(stderr, "scripts/lab.sh down failed:\n%s\n", down.output.c_str());
}

LabOutput Lab::script(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv{source_path("scripts/lab.sh")};
  argv.insert(argv.end(), args.begin(), args.end());
  std::map<std::string, std::string> env{{"CPLAB_PREFIX", options_.prefix},
                                         {"CPLAB_STATE", state_},
                                         {"CPLAB_CHAOSPLUS", bin("chaosplus")},
                                         {"CPLAB_AGENTS", options_.agents ? "1" : "0"},
                                         {"CPLAB_TTL", options_.ttl}};
  for (const auto& [node, labels] : options_.labels) env["CPLAB_LABELS_" + std::to_string(node)] = labels;
  Child child(argv, env);
  return finish(child, timeout);
}

std::string Lab::ns(int node) const { return options_.prefix + "-" + std::to_string(node); }

std::string Lab::address(int node) { return "10.77.0." + std::to_string(10 + node); }

std::vector<std::string> Lab::in(int node, const std::vector<std::string>& argv) const {
  std::vector<std::string> out{"ip", "netns", "exec", ns(node)};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

LabOutput Lab::run(int node, const std::vector<std::string>& argv, std::chrono::milliseconds timeout) const {
  Child child(in(node, argv), env_);
  return finish(child, timeout);
}

std::vector<pid_t> Lab::pids_in(int node) const {
  Child child({"ip", "netns", "pids", ns(node)});
  auto out = finish(child, std::chrono::seconds(10));
  std::vector<pid_t> pids;
  std::istringstream lines(out.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) pids.push_back(std::stoi(line));
  }
  return pids;
}

pid_t Lab::recorded_pid(const std::string& name) const {
  std::ifstream in(state_ + "/run/" + name + ".pid");
  pid_t pid = 0;
  std::string started;
  if (!(in >> pid >> started)) return 0;
  return start_time(pid) == started ? pid : 0;
}

void Lab::signal_recorded(const std::string& name, int sig) const {
  pid_t pid = recorded_pid(name);
  if (pid <= 0) throw std::runtime_error("lab: " + name + " is not running");
  ::kill(pid, sig);
}

void Lab::cut_off(int node) const {
  Child child({"ip", "-n", options_.prefix + "-hub", "link", "set", "v" + std::to_string(node), "down"});
  auto out = finish(child, std::chrono::seconds(10));
  if (out.code != 0) throw std::runtime_error("lab: cutting node " + std::to_string(node) + " off: " + out.output);
}

void Lab::reconnect(int node) const {
  Child child({"ip", "-n", options_.prefix + "-hub", "link", "set", "v" + std::to_string(node), "up"});
  auto out = finish(child, std::chrono::seconds(10));
  if (out.code != 0) throw std::runtime_error("lab: reconnecting node " + std::to_string(node) + ": " + out.output);
}

int Lab::etcd_leader() const {
  for (int member = 1; member <= 3; ++member) {
    if (recorded_pid("etcd-" + std::to_string(member)) == 0) continue;
    Child child(in(0, quiet(state_ + "/etcdctl.stderr",
                            {"etcdctl", "--endpoints=http://" + address(member) + ":2379", "--dial-timeout=1s",
                             "--command-timeout=2s", "endpoint", "status", "-w", "json"})));
    auto out = finish(child, std::chrono::seconds(10));
    if (out.code != 0) continue;
    auto json = nlohmann::json::parse(out.output, nullptr, false);
    if (!json.is_array() || json.empty()) continue;
    const auto& status = json[0]["Status"];
    if (status["header"]["member_id"] == status["leader"]) return member;
  }
  return 0;
}

int Lab::kill_etcd_leader() const {
  int leader = etcd_leader();
  if (leader == 0) throw std::runtime_error("lab: no etcd member leads");
  signal_recorded("etcd-" + std::to_string(leader), SIGKILL);
  return leader;
}

LabOutput Lab::etcdctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"etcdctl", "--endpoints=" + env_.at("CHAOSPLUS_ETCD"), "--dial-timeout=1s",
                                "--command-timeout=3s"};
  argv.insert(argv.end(), args.begin(), args.end());
  Child child(in(0, quiet(state_ + "/etcdctl.stderr", argv)));
  auto out = finish(child, std::chrono::seconds(15));
  if (out.code != 0) out.output += read_file(state_ + "/etcdctl.stderr");
  return out;
}

std::map<std::string, std::string> Lab::get_prefix(const std::string& prefix) const {
  auto out = etcdctl({"get", "--prefix", prefix});
  if (out.code != 0) throw std::runtime_error("lab: etcdctl get --prefix " + prefix + ": " + out.output);
  std::map<std::string, std::string> kvs;
  std::istringstream lines(out.output);
  for (std::string key, value; std::getline(lines, key) && std::getline(lines, value);) kvs[key] = value;
  return kvs;
}

std::string Lab::log_tails() const {
  std::string text;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_ + "/logs", ec)) {
    auto lines = read_lines(entry.path().string());
    text += "--- " + entry.path().string() + "\n";
    for (std::size_t i = lines.size() > 20 ? lines.size() - 20 : 0; i < lines.size(); ++i) text += lines[i] + "\n";
  }
  return trim(text);
}

}  // namespace chaosplus::testing
