#include "targets/attach.h"

#include <dirent.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/allowed_hosts.h"
#include "core/loopback.h"
#include "net/http_client.h"
#include "spec/loader.h"
#include "targets/program.h"
#include "targets/sockets.h"

namespace chaosplus::targets {
namespace {

// The kernel keeps 15 characters of a process name (TASK_COMM_LEN - 1).
constexpr std::size_t kCommLength = 15;
// A pid_command or pid_url that takes longer is stuck; the rule is re-evaluated during reverts too.
constexpr Duration kLookupTimeout = std::chrono::seconds(5);
// How much of an unexpected answer an error quotes.
constexpr std::size_t kQuoted = 80;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Base name of argv[0], for names the kernel truncated in comm.
std::string argv0_base_name(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string argv0;
  std::getline(in, argv0, '\0');
  return std::filesystem::path(argv0).filename().string();
}

bool name_matches(int pid, const std::string& name) {
  const std::string comm = process_name(pid);
  if (comm.empty()) return false;
  if (name.size() <= kCommLength) return comm == name;
  return comm == name.substr(0, kCommLength) && argv0_base_name(pid) == name;
}

Result<ProcessId> by_pid(int pid, const std::string& origin) {
  auto id = identify(pid);
  if (!id) return Error{"no running process with pid " + std::to_string(pid) + origin};
  return id;
}

std::string quoted(const std::string& text) {
  return "'" + (text.size() <= kQuoted ? text : text.substr(0, kQuoted) + "...") + "'";
}

// A decimal pid and nothing else (surrounding whitespace allowed).
std::optional<int> parse_pid(std::string_view raw) {
  const std::string text = trim(raw);
  int pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

// Only the first line counts: PostgreSQL's postmaster.pid and others add lines after the pid.
Result<ProcessId> by_pidfile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read pidfile " + path};
  std::string first_line;
  std::getline(in, first_line);
  const auto pid = parse_pid(first_line);
  if (!pid) {
    return Error{"pidfile " + path + " does not hold a pid (found '" + trim(first_line).substr(0, 40) +
                 "'), expected a decimal pid on its first line"};
  }
  return by_pid(*pid, " (from pidfile " + path + ")");
}

// The program runs without a shell, bounded in time, and must print one pid.
Result<ProcessId> by_command(const std::vector<std::string>& argv) {
  const std::string what = "pid_command '" + describe_command(argv) + "'";
  ProgramOptions options;
  options.timeout = kLookupTimeout;
  options.kill_leftovers = true;
  options.max_output = 64 * 1024;
  auto run = run_program(argv, options);
  if (!run) return Error{what + ": " + run.error()};
  if (run->timed_out) return Error{what + " did not finish within " + format_duration(kLookupTimeout)};
  if (run->exit_code != 0) {
    const std::string err = trim(run->err);
    return Error{what + " exited with " + std::to_string(run->exit_code) + (err.empty() ? "" : ": " + quoted(err)) +
                 ", expected it to print one pid"};
  }
  const std::string out = trim(run->out);
  if (out.empty()) return Error{what + " printed nothing, expected one pid"};
  const auto pid = parse_pid(out);
  if (!pid) return Error{what + " printed " + quoted(out) + ", expected one pid"};
  return by_pid(*pid, " (printed by " + what + ")");
}

// The pid in a JSON answer, under `field` ("a.b" walks into nested objects).
Result<int> pid_in_json(const std::string& body, const std::string& field, const std::string& what) {
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error{what + " answered " + quoted(trim(body)) + ", expected a JSON object with the field '" + field + "'"};
  }
  const nlohmann::json* at = &doc;
  std::string_view rest = field;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string key(rest.substr(0, dot));
    const auto found = at->is_object() ? at->find(key) : at->end();
    if (!at->is_object() || found == at->end()) {
      return Error{what + ": the answer has no field '" + field + "' (found " + quoted(doc.dump()) + ")"};
    }
    at = &*found;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (at->is_number_integer() && at->get<long long>() > 0 && at->get<long long>() <= INT32_MAX) {
    return static_cast<int>(at->get<long long>());
  }
  return Error{what + ": the field '" + field + "' is " + at->dump() + ", expected a pid (a positive integer)"};
}

Result<ProcessId> by_url(const std::string& url, const std::string& field) {
  const std::string what = "pid_url " + url;
  auto parsed = net::Url::parse(url);
  if (!parsed) return Error{what + ": " + parsed.error()};
  if (!allowed_hosts().allows_host(parsed->host)) return Error{what + ": not on the allow-list; " + allow_hint()};
  auto response = net::fetch("GET", url, {}, kLookupTimeout);
  if (!response) return Error{what + ": " + response.error()};
  if (response->status < 200 || response->status > 299) {
    return Error{what + " answered " + std::to_string(response->status) + ", expected 2xx with a pid"};
  }
  std::optional<int> pid;
  if (field.empty()) {
    pid = parse_pid(response->body);
    if (!pid) {
      return Error{what + " answered " + quoted(trim(response->body)) +
                   ", expected a pid (a bare number; for a JSON object name its field with pid_field)"};
    }
  } else {
    auto from_json = pid_in_json(response->body, field, what);
    if (!from_json) return Error{from_json.error()};
    pid = *from_json;
  }
  return by_pid(*pid, " (from " + what + ")");
}

Result<ProcessId> by_name(const std::string& name) {
  std::vector<ProcessId> matches;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return Error{"cannot list /proc to find a process named '" + name + "'"};
  const int self = static_cast<int>(::getpid());
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == self) continue;
    if (!name_matches(static_cast<int>(pid), name)) continue;
    if (auto id = identify(static_cast<int>(pid))) matches.push_back(*id);  // skips zombies
  }
  ::closedir(dir);
  if (matches.empty()) return Error{"no running process named '" + name + "'"};
  if (matches.size() > 1) {
    std::string pids;
    for (const auto& m : matches) pids += (pids.empty() ? "" : ", ") + std::to_string(m.pid);
    return Error{std::to_string(matches.size()) + " processes are named '" + name + "' (pids " + pids +
                 "); name one by pid or pidfile"};
  }
  return matches.front();
}

}  // namespace

Result<ProcessId> resolve(const spec::ProcessAttach& attach) {
  const int given = (attach.pid ? 1 : 0) + (attach.pidfile.empty() ? 0 : 1) + (attach.name.empty() ? 0 : 1) +
                    (attach.pid_command.empty() ? 0 : 1) + (attach.pid_url.empty() ? 0 : 1) + (attach.listen ? 1 : 0);
  if (given != 1) {
    return Error{"attach needs exactly one of pid, pidfile, name, pid_command, pid_url, listen (" +
                 std::to_string(given) + " given)"};
  }
  if (attach.listen) return listening_process(attach.listen->host, attach.listen->port);
  if (attach.pid) return by_pid(*attach.pid, "");
  if (!attach.pidfile.empty()) return by_pidfile(attach.pidfile);
  if (!attach.pid_command.empty()) return by_command(attach.pid_command);
  if (!attach.pid_url.empty()) return by_url(attach.pid_url, attach.pid_field);
  return by_name(attach.name);
}

}  // namespace chaosplus::targets
