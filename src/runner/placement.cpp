#include "runner/placement.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "dns/rules.h"
#include "faults/registry.h"
#include "faults/rollback.h"
#include "faults/undo.h"
#include "proxy/api_client.h"
#include "proxy/server.h"
#include "runner/rollback_step.h"
#include "runner/target_claims.h"
#include "targets/launch.h"

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string self_executable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("chaosplus") : path.string();
}

// The read end of a FIFO made for one message, removed with it.
class Fifo {
 public:
  explicit Fifo(std::string path) : path_(std::move(path)) {}
  ~Fifo() {
    if (fd_ >= 0) ::close(fd_);
    if (made_) ::unlink(path_.c_str());
  }
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;

  Status open() {
    ::unlink(path_.c_str());  // one left by a run that died here
    if (::mkfifo(path_.c_str(), 0600) != 0) return Error{"cannot make " + path_ + ": " + std::strerror(errno)};
    made_ = true;
    // Non-blocking, so this open does not wait for the writer, and reads do not either.
    fd_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd_ < 0) return Error{"cannot open " + path_ + ": " + std::strerror(errno)};
    return ok_status();
  }
  // Waits up to `wait` for more; returns the first line once it is complete.
  std::optional<std::string> line(Duration wait) {
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()));
    char buf[256];
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;) got_.append(buf, static_cast<std::size_t>(n));
    const auto end = got_.find('\n');
    if (end == std::string::npos) return std::nullopt;
    return got_.substr(0, end);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool made_ = false;
  std::string got_;
};

}  // namespace

Placement::Placement(const spec::Experiment& experiment, Ledger& ledger, std::string run_id, std::string log_dir,
                     EventBus& bus, HaltSwitch& halt)
    : experiment_(experiment),
      ledger_(ledger),
      run_id_(std::move(run_id)),
      log_dir_(std::move(log_dir)),
      bus_(bus),
      halt_(halt) {
  for (const spec::Target& t : experiment_.targets) {
    faults::TargetHandle* target =
        handles_.emplace_back(std::make_unique<faults::TargetHandle>(t, log_path_for(t.name))).get();
    // A fault's revert or a rollback that starts the target again records it first, like start_targets.
    target->start_recorded = [this, target](const spec::ProcessLaunch& launch) {
      return start_recorded("target " + target->name(), launch, target->log_path(), target->sandbox);
    };
    target->publish = [this](Event e) { bus_.publish(std::move(e)); };  // an extension's events
  }
}

faults::TargetHandle* Placement::handle(const std::string& name) {
  for (auto& h : handles_) {
    if (h->name() == name) return h.get();
  }
  return nullptr;
}

Status Placement::claim(const std::string& experiment_name) {
  auto claims = claim_targets(handles_, {run_id_, experiment_name, static_cast<int>(::getpid())});
  if (!claims) return Error{claims.error()};
  claims_ = std::move(claims).value();
  return ok_status();
}

// The ledger entry is written before the fork and completed (pid and start time) while the child
// waits at its gate: nothing the run starts is ever running unrecorded (targets/gated_child.h).
Result<targets::ProcessId> Placement::start_recorded(const std::string& what, const spec::ProcessLaunch& launch,
                                                     const std::string& log, const targets::Sandbox& sandbox) {
  auto entry = ledger_.record(run_id_, std::string(faults::kinds::process_started),
                              faults::started_process_record(what, std::nullopt));
  if (!entry) return Error{"cannot write the ledger, " + what + " not started: " + entry.error()};
  std::string record;
  auto id = targets::spawn(launch, log, sandbox, [&](const targets::ProcessId& child) -> Status {
    record = faults::started_process_record(what, child);
    return ledger_.update_record(*entry, record);
  });
  if (!id) {
    (void)ledger_.set_state(*entry, EntryState::reverted, "not started: " + id.error());
    return Error{id.error()};
  }
  (void)ledger_.set_state(*entry, EntryState::active);
  started_.push_back({*entry, what, record});
  return id;
}

// A server of ours (the fault proxy, the resolver) is its own process, so it outlives a crashed
// runner only until `recover`. Once it is listening it tells its address, one line, on a FIFO of
// this run's (owner-only, in its logs folder): `--address-to PATH` is added to its command line.
Result<Placement::Told> Placement::start_telling(const std::string& what, spec::ProcessLaunch launch,
                                                 const std::string& fifo_name) {
  std::error_code ec;
  std::filesystem::create_directories(log_dir_, ec);
  Fifo fifo(log_dir_ + "/" + fifo_name);
  if (auto s = fifo.open(); !s) return Error{"cannot start the " + what + ": " + s.error()};
  launch.command.insert(launch.command.begin(), self_executable());  // the command is a subcommand's
  launch.command.insert(launch.command.end(), {"--address-to", fifo.path()});
  const std::string log = log_path_for(fifo_name.substr(0, fifo_name.find('.')));
  auto id = start_recorded(what, launch, log);
  if (!id) return Error{"cannot start the " + what + ": " + id.error()};
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline;) {
    if (auto address = fifo.line(20ms)) return Told{*id, *address};
    if (!targets::is_alive(*id)) return Error{"the " + what + " exited: " + targets::log_tail(log)};
    if (halt_.triggered()) return Error{"halted while starting the " + what};
  }
  return Error{"the " + what + " did not tell its address within 10s: " + targets::log_tail(log)};
}

Result<std::string> Placement::start_proxy_server() {
  spec::ProcessLaunch launch;
  launch.command = {"proxy", "--api", "127.0.0.1:0"};
  // Only this run may change its proxy: a fresh token, through the environment (not visible in ps).
  proxy_token_ = proxy::random_token();
  launch.env["CHAOSPLUS_PROXY_TOKEN"] = proxy_token_;
  auto told = start_telling("fault proxy", launch, "fault-proxy.address");
  if (!told) return Error{told.error()};
  proxy_server_ = told->id;
  return told->address;
}

Status Placement::place_proxies() {
  const bool needed = std::any_of(experiment_.targets.begin(), experiment_.targets.end(),
                                  [](const spec::Target& t) { return t.proxy.has_value(); });
  if (!needed) return ok_status();
  auto address = start_proxy_server();
  if (!address) return Error{address.error()};
  const std::string api = "http://" + *address;
  proxy::ApiClient client(api, proxy_token_);
  for (auto& h : handles_) {
    const spec::Target& t = h->spec();
    h->proxy_api = api;
    h->proxy_token = proxy_token_;
    h->proxy_server = proxy_server_;
    if (!t.proxy) continue;
    if (auto s = client.create_proxy(t.name, t.proxy->listen.to_string(), t.proxy->upstream.to_string()); !s) {
      return Error{"cannot place the fault proxy for target '" + t.name + "' on " + t.proxy->listen.to_string() + ": " +
                   s.error()};
    }
    bus_.publish(Event("proxy.placed")
                     .with("target", t.name)
                     .with("listen", t.proxy->listen.to_string())
                     .with("upstream", t.proxy->upstream.to_string()));
  }
  return ok_status();
}

std::map<std::string, std::int64_t> Placement::target_pids() const {
  std::map<std::string, std::int64_t> pids;
  for (const auto& h : handles_) {
    if (const auto id = h->process(); id && id->pid > 0) pids[h->name()] = id->pid;
  }
  return pids;
}

Status Placement::start_targets() {
  for (auto& h : handles_) {
    const spec::Target& t = h->spec();
    if (t.attach) {
      const auto id = h->process();  // resolved and claimed by claim_targets (runner/target_claims.h)
      bus_.publish(
          Event("target.attached").with("target", t.name).with("pid", static_cast<std::int64_t>(id ? id->pid : 0)));
      continue;
    }
    if (!t.process) continue;
    faults::LaunchPrep prep{t.name, h->state_dir, run_id_, {}};
    if (auto s = faults::prepare_launch(experiment_, prep); !s) return Error{s.error()};
    if (prep.wants_resolver || !t.process->resolve.empty()) {
      auto resolver = ensure_resolver(h->state_dir);
      if (!resolver) return Error{"target '" + t.name + "': " + resolver.error()};
      prep.sandbox.private_mounts = true;
      prep.sandbox.binds.push_back({resolver->resolv_conf, "/etc/resolv.conf"});
      h->resolver_rules = resolver->rules;
    }
    h->sandbox = std::move(prep.sandbox);
    if (t.process->ready) {
      if (auto s = targets::check_not_answered_before_start(*t.process->ready, "target '" + t.name + "'"); !s) return s;
    }
    auto id = start_recorded("target " + t.name, *t.process, h->log_path(), h->sandbox);
    if (!id) return Error{"target '" + t.name + "': " + id.error()};
    h->set_process(*id);
    bus_.publish(Event("target.started")
                     .with("target", t.name)
                     .with("pid", static_cast<std::int64_t>(id->pid))
                     .with("log", h->log_path()));
    if (t.process->ready) {
      if (auto s = targets::wait_ready(*t.process->ready, *id, h->log_path(), halt_); !s) {
        return Error{"target '" + t.name + "' did not become ready: " + s.error()};
      }
      bus_.publish(Event("target.ready").with("target", t.name));
    }
  }
  return ok_status();
}

std::vector<std::string> Placement::record_rollbacks() {
  std::vector<std::string> errors;
  for (const spec::Rollback& r : experiment_.rollbacks) {
    auto entry = ledger_.record(run_id_, std::string(faults::kinds::rollback),
                                faults::rollback_record(r, r.command ? nullptr : handle(r.restart_target)));
    rollback_entries_.push_back(entry ? *entry : 0);
    if (!entry) errors.push_back("cannot write the ledger, rollback " + r.name + " not recorded: " + entry.error());
  }
  return errors;
}

void Placement::run_rollbacks() {
  for (std::size_t i = 0; i < experiment_.rollbacks.size(); ++i) {
    const spec::Rollback& r = experiment_.rollbacks[i];
    const std::int64_t entry = i < rollback_entries_.size() ? rollback_entries_[i] : 0;
    const Status s = run_rollback(r, r.command ? nullptr : handle(r.restart_target), ledger_, entry);
    Event e("rollback.done");
    e.with("name", r.name).with("ok", s.ok());
    if (!s) e.with("error", s.error());
    bus_.publish(std::move(e));
  }
}

void Placement::stop() {
  for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
    Status s = faults::undo(faults::kinds::process_started, it->record);
    (void)ledger_.set_state(it->ledger_id, s ? EntryState::reverted : EntryState::revert_failed, s ? "" : s.error());
    Event e("placement.removed");
    e.with("what", it->what).with("ok", s.ok());
    if (!s) e.with("error", s.error());
    bus_.publish(std::move(e));
  }
  if (resolver_) {
    std::error_code ec;  // its rules and resolv.conf: nothing reads them once the resolver is stopped
    std::filesystem::remove_all(std::filesystem::path(resolver_->rules).parent_path(), ec);
  }
}

}  // namespace chaosplus::runner
