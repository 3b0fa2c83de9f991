#include "runner/leftovers.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "dns/rules.h"
#include "faults/file_leftovers.h"
#include "faults/netns.h"
#include "faults/system_tool.h"
#include "faults/undo.h"
#include "iofs/mounts.h"
#include "iofs/passthrough.h"
#include "runner/ledger.h"
#include "runner/ledger_witness.h"
#include "runner/redaction.h"
#include "targets/process.h"

namespace chaosplus::runner {
namespace {

std::vector<int> all_pids() {
  std::vector<int> pids;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return pids;
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (!name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); })) {
      pids.push_back(std::stoi(name));
    }
  }
  ::closedir(dir);
  std::sort(pids.begin(), pids.end());
  return pids;
}

std::vector<std::string> command_line(int pid) {
  std::vector<std::string> argv;
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string arg;
  for (char c : raw) {
    if (c == '\0') {
      argv.push_back(arg);
      arg.clear();
    } else {
      arg += c;
    }
  }
  if (!arg.empty()) argv.push_back(arg);
  return argv;
}

// The command line as it may be shown: a secret given as an option's value is redacted.
std::string shown_command_line(const std::vector<std::string>& argv) {
  std::string out;
  bool secret_next = false;
  for (const std::string& arg : argv) {
    std::string shown = arg;
    if (secret_next) {
      shown = std::string(kRedacted);
      secret_next = false;
    } else if (arg.starts_with("-")) {
      const auto eq = arg.find('=');
      const std::string key = arg.substr(0, eq);
      if (is_secret_key(key)) {
        if (eq == std::string::npos) secret_next = true;
        else shown = key + "=" + std::string(kRedacted);
      }
    }
    out += (out.empty() ? "" : " ") + shown;
  }
  return out;
}

std::string process_text(int pid) {
  const std::string name = targets::process_name(pid);
  const std::string cmd = shown_command_line(command_line(pid));
  return "pid " + std::to_string(pid) + " (" + name + ")" + (cmd.empty() ? "" : ": " + cmd);
}

bool is_chaosplus(const std::vector<std::string>& argv) {
  if (argv.empty()) return false;
  const std::string& a = argv[0];
  const auto slash = a.rfind('/');
  return (slash == std::string::npos ? a : a.substr(slash + 1)) == "chaosplus";
}

// "chaosplus_<pid>_..." names the runner that made the table.
std::string maker_of(const std::string& table) {
  const std::string prefix = "chaosplus_";
  if (!table.starts_with(prefix)) return {};
  const std::string rest = table.substr(prefix.size());
  const auto end = rest.find('_');
  const std::string pid = rest.substr(0, end);
  if (pid.empty() || !std::all_of(pid.begin(), pid.end(), [](unsigned char c) { return std::isdigit(c); })) return {};
  const bool alive = targets::process_state(std::stoi(pid)) != 0;
  return ", made by pid " + pid + (alive ? " (a process with that pid is running)" : " (gone)");
}

void nft_tables(const std::string& netns, LeftoverReport& report) {
  const std::string where = netns.empty() ? "host" : "netns " + netns;
  auto out = faults::run_tool_checked(faults::in_namespace(netns, {"nft", "-j", "list", "tables"}));
  if (!out) {
    report.notes.push_back("cannot list the nft tables of the " + where + ": " + out.error());
    return;
  }
  auto j = nlohmann::json::parse(*out, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("nftables") || !j["nftables"].is_array()) {
    report.notes.push_back("unexpected output of 'nft -j list tables' in the " + where);
    return;
  }
  for (const auto& item : j["nftables"]) {
    if (!item.is_object() || !item.contains("table")) continue;
    const auto& t = item["table"];
    const std::string family = t.value("family", std::string());
    const std::string name = t.value("name", std::string());
    if (!name.starts_with("chaosplus")) continue;
    const std::string prefix = netns.empty() ? "" : "ip netns exec " + netns + " ";
    report.found.push_back({"nft table", family + " " + name + " (" + where + ")" + maker_of(name),
                            "remove: " + prefix + "nft delete table " + family + " " + name});
  }
}

// The cgroups an `isolate` fault makes at the top of the cgroup v2 hierarchy ("<nft table>_member",
// "<nft table>_peers"): processes in one are still cut off by its table's rules, if the table is
// left too, and are not in the cgroup their service manager put them in.
void isolate_cgroups(LeftoverReport& report) {
  namespace fs = std::filesystem;
  for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    std::error_code ec;
    if (!fs::exists(std::string(root) + "/cgroup.procs", ec)) continue;  // not a cgroup v2 root
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_directory(ec) || !name.starts_with("chaosplus")) continue;
      std::ifstream in(entry.path() / "cgroup.procs");
      const std::string procs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const auto count = std::count(procs.begin(), procs.end(), '\n');
      report.found.push_back(
          {"cgroup",
           entry.path().string() + " (made by an isolate fault; " + std::to_string(count) + " process(es) in it)",
           "move its processes back (echo PID > " + std::string(root) + "/<their cgroup>/cgroup.procs), then: rmdir " +
               entry.path().string()});
    }
  }
}

void tbf_qdiscs(const std::string& netns, LeftoverReport& report) {
  auto out = faults::run_tool_checked({"tc", "-n", netns, "-j", "qdisc", "show"});
  if (!out) {
    report.notes.push_back("cannot list the qdiscs of netns " + netns + ": " + out.error());
    return;
  }
  auto j = nlohmann::json::parse(*out, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    report.notes.push_back("unexpected output of 'tc -j qdisc show' in netns " + netns);
    return;
  }
  for (const auto& q : j) {
    if (!q.is_object() || q.value("kind", std::string()) != "tbf" || !q.value("root", false)) continue;
    const std::string dev = q.value("dev", std::string());
    report.found.push_back({"tbf qdisc",
                            q.value("handle", std::string()) + " on " + dev + " in netns " + netns +
                                " (bandwidth_limit adds a root tbf only where the kernel's default was)",
                            "remove: tc -n " + netns + " qdisc del dev " + dev + " root"});
  }
}

struct Recorded {
  std::string kind;
  std::string run_id;
  std::string record;  // redacted
  std::string state;   // "" when known from the witness only
};

// Entries by id, from the ledger if it reads, and from its witness (which outlives a lost log).
std::map<std::int64_t, Recorded> recorded_entries(const std::string& ledger_path, std::vector<RunRecord>& runs,
                                                  LeftoverReport& report) {
  std::map<std::int64_t, Recorded> out;
  std::set<std::string> run_ids;
  const std::string witness_path = Ledger::witness_path(ledger_path);
  std::error_code ec;
  if (!std::filesystem::exists(ledger_path, ec) && !std::filesystem::exists(witness_path, ec)) {
    report.notes.push_back("there is no ledger at " + ledger_path + ", so no recorded processes to look for");
    return out;
  }
  auto witness = LedgerWitness::read(witness_path);
  if (witness) {
    for (const WitnessedEntry& e : witness->entries) out[e.id] = {e.kind, e.run_id, e.record, ""};
    for (const WitnessedRun& r : witness->runs) {
      runs.push_back(RunRecord{r.run_id, r.pid, r.pid_start_time, r.experiment, "", ""});
      run_ids.insert(r.run_id);
    }
  } else {
    report.notes.push_back(witness.error());
  }
  auto ledger = Ledger::open_for_inspection(ledger_path);
  if (!ledger) {
    report.notes.push_back("cannot read the ledger: " + ledger.error());
    return out;
  }
  auto entries = (*ledger)->entries("");
  if (entries) {
    for (const LedgerEntry& e : *entries) out[e.id] = {e.kind, e.run_id, redact_record(e.record), to_string(e.state)};
  } else {
    report.notes.push_back("cannot read the ledger's entries (only its witness's are shown): " + entries.error());
  }
  auto ledger_runs = (*ledger)->runs();
  if (ledger_runs) {
    for (const RunRecord& r : *ledger_runs) {
      if (run_ids.insert(r.run_id).second) runs.push_back(r);
    }
  } else {
    report.notes.push_back("cannot read the ledger's runs: " + ledger_runs.error());
  }
  return out;
}

// The copies the corrupt fault keeps (<state folder>/corrupt, beside the ledger): one still there
// belongs to a file whose revert has not been confirmed, and is the only way back when the ledger
// cannot be trusted.
void corrupted_files(const std::string& ledger_path, const std::map<std::int64_t, Recorded>& entries,
                     LeftoverReport& report) {
  std::set<std::string> named;
  for (const auto& [id, e] : entries) {
    auto r = nlohmann::json::parse(e.record, nullptr, false);
    if (r.is_discarded() || !r.is_object() || !r.contains("corruption") || !r["corruption"].is_object()) continue;
    const auto& c = r["corruption"];
    const std::string copy = c.value("copy", std::string());
    named.insert(copy);
    std::error_code ec;
    if (copy.empty() || !std::filesystem::exists(copy, ec)) continue;
    const std::string path = c.value("path", std::string("?"));
    report.found.push_back(
        {"corrupted file",
         path + " (copy " + copy + ", SHA-256 before " + c.value("sha256_before", std::string("?")) + ", corrupted " +
             c.value("sha256_after", std::string("?")) + ") - ledger entry " + std::to_string(id) + " (" +
             (e.state.empty() ? "known from the witness only" : e.state) + ") of run " + e.run_id,
         "`chaosplus recover` writes its original bytes back; by hand, only if `sha256sum " + path +
             "` still shows the corrupted SHA-256 (nothing wrote to it since): cp " + copy + " " + path});
  }
  std::error_code ec;
  const auto folder = std::filesystem::path(ledger_path).parent_path() / "corrupt";
  for (const auto& file : std::filesystem::directory_iterator(folder, ec)) {
    if (named.contains(file.path().string())) continue;
    report.found.push_back({"copy of a corrupted file", file.path().string() + " (named by no ledger entry)",
                            "the exact copy of a file the corrupt fault damaged, taken before it wrote; its name "
                            "starts with the file's name: compare, then remove it with rm " +
                                file.path().string()});
  }
}

// The FUSE mounts of I/O faults, in whatever mount namespace (one reading per namespace).
void iofs_mounts(LeftoverReport& report) {
  std::set<unsigned long long> seen;
  for (int pid : all_pids()) {
    const unsigned long long ns = iofs::mount_namespace(pid);
    if (ns == 0 || !seen.insert(ns).second) continue;
    for (const auto& m : iofs::read_mounts(pid)) {
      if (m.fstype != iofs::kFsType) continue;
      report.found.push_back({"I/O fault mount", m.mount_point + " in the mount namespace of " + process_text(pid),
                              "remove: nsenter -t " + std::to_string(pid) + " -m umount -l " + m.mount_point});
    }
  }
}

// What lock_account may leave: an account whose expiry is day 1 (1970-01-02, what the fault writes;
// no one sets that date by hand), and the file it renames over /etc/shadow when it was killed before
// the rename (shadow-utils' own tools use the same name, so it is named, not judged).
void locked_accounts(LeftoverReport& report) {
  std::ifstream shadow("/etc/shadow");
  if (!shadow) {
    report.notes.push_back(
        "/etc/shadow cannot be read (root is needed): accounts lock_account may have left "
        "locked not looked at");
    return;
  }
  for (std::string line; std::getline(shadow, line);) {
    std::vector<std::string> fields;
    for (std::size_t begin = 0;;) {
      const std::size_t colon = line.find(':', begin);
      fields.push_back(line.substr(begin, colon == std::string::npos ? std::string::npos : colon - begin));
      if (colon == std::string::npos) break;
      begin = colon + 1;
    }
    if (fields.size() != 9 || fields[7] != "1") continue;
    const bool locked = fields[1].starts_with("!");
    report.found.push_back(
        {"expired account", fields[0] + " (expiry day 1, as lock_account writes" + (locked ? "; locked" : "") + ")",
         "`chaosplus recover` puts it back from the ledger; by hand: chage -E -1 " + fields[0] +
             (locked ? " && usermod -U " + fields[0] : "") + " (usermod -U only if it was not locked before)"});
  }
  std::error_code ec;
  if (std::filesystem::exists("/etc/shadow+", ec)) {
    report.found.push_back({"account file", "/etc/shadow+ (a rewrite of /etc/shadow that was never renamed over it)",
                            "compare it with /etc/shadow (diff /etc/shadow /etc/shadow+), then remove it with "
                            "rm /etc/shadow+"});
  }
}

// What the host resource faults may leave (faults/stress_faults.cpp): a stress-ng they started
// (pid and start time in the entry; its --timeout ends it by itself at the fault's end), the folder
// io_stress worked in, and a cgroup memory limit not yet back to its recorded original.
void stress_faults(const std::map<std::int64_t, Recorded>& entries, std::set<int>& recorded_pids,
                   LeftoverReport& report) {
  for (const auto& [id, e] : entries) {
    if (!e.kind.starts_with("host.") && e.kind != "cgroup.memory_limit") continue;
    auto r = nlohmann::json::parse(e.record, nullptr, false);
    if (r.is_discarded() || !r.is_object()) continue;
    const std::string entry = " - ledger entry " + std::to_string(id) + " (" + e.kind + ", " +
                              (e.state.empty() ? "known from the witness only" : e.state) + ") of run " + e.run_id;
    const targets::ProcessId tool{r.value("tool_pid", 0), r.value("tool_start_time", 0ULL)};
    if (tool.pid > 0 && targets::is_alive(tool)) {
      recorded_pids.insert(tool.pid);
      report.found.push_back({"stress-ng", process_text(tool.pid) + entry,
                              "`chaosplus recover` stops it; by hand: kill -- -" + std::to_string(tool.pid) +
                                  " (its process group: the workers too)"});
    }
    const std::string dir = r.value("work_dir", std::string());
    std::error_code ec;
    if (!dir.empty() && std::filesystem::exists(dir, ec)) {
      report.found.push_back(
          {"io_stress folder", dir + entry, "`chaosplus recover` removes it; by hand: rm -r " + dir});
    }
    if (e.kind == "cgroup.memory_limit") {
      const std::string file = r.value("dir", std::string()) + "/" + r.value("file", std::string());
      std::ifstream in(file);
      std::string now;
      if (in && std::getline(in, now) && now != r.value("original", std::string())) {
        report.found.push_back(
            {"cgroup memory limit",
             file + " reads " + now + ", recorded original " + r.value("original", std::string()) + entry,
             "`chaosplus recover` writes the original back; by hand: echo " + r.value("original", std::string()) +
                 " > " + file});
      }
    }
  }
}
// The folders of runs' resolvers (<state folder>/dns/<run id>: its rules file and the resolv.conf
// its targets saw). A run removes its own at the end; one left by a crashed run holds the rules of
// the dns faults that were on (recover takes them out) and is harmless once no resolver reads it.
void resolver_folders(const std::string& ledger_path, LeftoverReport& report) {
  std::error_code ec;
  const auto folder = std::filesystem::path(ledger_path).parent_path() / "dns";
  for (const auto& run : std::filesystem::directory_iterator(folder, ec)) {
    const auto rules = dns::read_rules((run.path() / "rules.json").string());
    const std::size_t on = rules ? rules->rules.size() : 0;
    report.found.push_back(
        {"resolver folder",
         run.path().string() + " (the resolver of run " + run.path().filename().string() + ": " + std::to_string(on) +
             " dns fault rule(s) in its rules file)",
         on > 0 ? "`chaosplus recover` takes the rules out; once no `chaosplus resolver` reads it: rm -r " +
                      run.path().string()
                : "nothing reads it once its run's `chaosplus resolver` is gone: rm -r " + run.path().string()});
  }
}

// The clock fault's files (<state folder>/clock, beside the ledger): a started target reads its
// wall clock's skew there through libfaketime; one not at "+0 x1" (the real time) was left skewed.
void skewed_clocks(const std::string& ledger_path, LeftoverReport& report) {
  std::error_code ec;
  const auto folder = std::filesystem::path(ledger_path).parent_path() / "clock";
  for (const auto& file : std::filesystem::directory_iterator(folder, ec)) {
    if (file.path().extension() == ".tmp") {  // no target reads it: the new setting of a write a kill cut
      report.found.push_back({"half-written clock file", file.path().string(),
                              "a clock setting a kill cut short before it replaced its file: `chaosplus recover` "
                              "removes it when it recovers that run; by hand: rm " +
                                  file.path().string()});
      continue;
    }
    std::ifstream in(file.path());
    std::string setting;
    std::getline(in, setting);
    if (setting == "+0 x1") continue;
    report.found.push_back({"skewed clock", file.path().string() + " holds '" + setting + "'",
                            "the libfaketime setting of a target a clock fault skewed: `chaosplus recover` puts the "
                            "real time back; by hand: echo '+0 x1' > " +
                                file.path().string()});
  }
}

// libfaketime's shared memory and semaphore (/dev/shm/faketime_shm_<pid>, sem.faketime_sem_<pid>)
// whose process is gone: a clock-faulted target stopped by a signal leaves them (faults/clock_fault.cpp
// removes them before the next clock-prepared start and on undo).
void stale_faketime_memory(LeftoverReport& report) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string name = entry.path().filename().string();
    const std::size_t at = name.starts_with("faketime_shm_") ? 13 : name.starts_with("sem.faketime_sem_") ? 17 : 0;
    if (at == 0 || name.size() == at || name.find_first_not_of("0123456789", at) != std::string::npos) continue;
    const int pid = std::stoi(name.substr(at));
    if (const char state = targets::process_state(pid); state != 0 && state != 'Z') continue;
    report.found.push_back(
        {"libfaketime shared memory", entry.path().string() + " (its process " + std::to_string(pid) + " is gone)",
         "left by a target a clock fault started with libfaketime and a signal stopped: rm " + entry.path().string()});
  }
}

}  // namespace

LeftoverReport find_leftovers(const std::string& ledger_path) {
  LeftoverReport report;
  std::vector<std::string> namespaces;
  for (const std::string& ns : faults::list_namespaces()) {
    if (faults::is_project_namespace(ns)) namespaces.push_back(ns);
  }

  if (faults::find_tool("nft").empty()) {
    report.notes.push_back("nft is not installed: there are no nftables tables to look at");
  } else {
    nft_tables("", report);
    for (const std::string& ns : namespaces) nft_tables(ns, report);
  }
  isolate_cgroups(report);
  if (faults::find_tool("tc").empty()) {
    if (!namespaces.empty()) report.notes.push_back("tc is not installed: qdiscs not looked at");
  } else {
    for (const std::string& ns : namespaces) tbf_qdiscs(ns, report);
  }
  for (const std::string& ns : namespaces) {
    report.found.push_back({"network namespace", ns + " (chaosplus's tests and labs create chaosplus-* namespaces)",
                            "remove, if nothing of yours uses it: ip netns delete " + ns});
  }

  std::vector<RunRecord> runs;
  std::set<int> recorded_pids;
  const auto entries = recorded_entries(ledger_path, runs, report);
  corrupted_files(ledger_path, entries, report);
  locked_accounts(report);
  for (const auto& [id, e] : entries) {
    for (auto& f : faults::file_fault_leftovers(e.kind, e.record)) {
      report.found.push_back(
          {f.what, f.detail + " - ledger entry " + std::to_string(id) + " of run " + e.run_id, f.how});
    }
  }
  resolver_folders(ledger_path, report);
  skewed_clocks(ledger_path, report);
  stale_faketime_memory(report);
  for (const auto& [id, e] : entries) {
    auto r = nlohmann::json::parse(e.record, nullptr, false);
    if (r.is_discarded() || !r.is_object() || !r.contains("pid") || !r["pid"].is_number_integer()) continue;
    const targets::ProcessId pid{r["pid"].get<int>(), r.value("start_time", 0ULL)};
    if (pid.pid <= 0 || !targets::is_alive(pid)) continue;
    const bool stopped = targets::process_state(pid.pid) == 'T';
    const bool started = e.kind == faults::kinds::process_started;
    // A target a fault paused is normally running again; one chaosplus started normally is gone.
    if (!started && !stopped) continue;
    recorded_pids.insert(pid.pid);
    report.found.push_back(
        {started ? "started process" : "paused process",
         process_text(pid.pid) + " - ledger entry " + std::to_string(id) + " (" + e.kind + ", " +
             (e.state.empty() ? "known from the witness only" : e.state) + ") of run " + e.run_id,
         started ? "chaosplus started it (same pid and start time): stop it with kill " + std::to_string(pid.pid)
                 : "a fault paused it: resume it with kill -CONT " + std::to_string(pid.pid)});
  }
  stress_faults(entries, recorded_pids, report);
  for (const RunRecord& run : runs) {
    if (run.pid <= 0 || !targets::is_alive(targets::ProcessId{run.pid, run.pid_start_time})) continue;
    recorded_pids.insert(run.pid);
    report.found.push_back({"runner", "run " + run.run_id + " (" + run.experiment + "), " + process_text(run.pid),
                            "still running: `chaosplus halt` stops it and reverts its faults"});
  }

  const int self = ::getpid();
  for (int pid : all_pids()) {
    if (pid == self || recorded_pids.contains(pid)) continue;
    const std::vector<std::string> argv = command_line(pid);
    if (is_chaosplus(argv) && argv.size() > 1 && argv[1] == "proxy") {
      report.found.push_back(
          {"fault proxy", process_text(pid),
           "runs start their own; if no run or user of yours needs this one: kill " + std::to_string(pid)});
    } else if (is_chaosplus(argv) && argv.size() > 1 && argv[1] == "iofs") {
      report.found.push_back({"I/O fault file system", process_text(pid),
                              "an io_error/io_latency fault's FUSE daemon; `chaosplus recover` with its run's "
                              "ledger takes its mount off and stops it"});
    } else if (targets::process_name(pid) == "stress-ng") {
      report.found.push_back({"stress-ng", process_text(pid) + " (named by no ledger entry)",
                              "the host resource faults start stress-ng with a time limit; if no one of yours "
                              "runs it: kill -- -" +
                                  std::to_string(pid)});
    } else if (is_chaosplus(argv) && argv.size() > 1 && argv[1] == "resolver") {
      report.found.push_back({"resolver", process_text(pid),
                              "a run's DNS resolver that no ledger entry names; if no run of yours needs it: kill " +
                                  std::to_string(pid)});
    } else if (targets::process_state(pid) == 'T') {
      report.found.push_back({"stopped process", process_text(pid),
                              "if a chaosplus pause fault stopped it: kill -CONT " + std::to_string(pid)});
    }
  }
  iofs_mounts(report);
  return report;
}

}  // namespace chaosplus::runner
