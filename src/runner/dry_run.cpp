#include "runner/dry_run.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <ostream>
#include <vector>

#include "faults/fault.h"
#include "faults/target_handle.h"
#include "net/socket.h"
#include "spec/fault_catalog.h"
#include "targets/attach.h"
#include "targets/launch.h"
#include "targets/process.h"
#include "targets/program.h"

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;

bool answers(const spec::Endpoint& e) { return net::connect_tcp(e.host, e.port, 500ms).ok(); }

// Whether the address can be bound now (as the fault proxy will bind it); the socket is closed again.
bool free_to_listen(const spec::Endpoint& e) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(e.host.c_str(), std::to_string(e.port).c_str(), &hints, &found) != 0) return false;
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  net::Fd fd(::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol));
  if (fd.get() < 0) return false;
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  return ::bind(fd.get(), found->ai_addr, found->ai_addrlen) == 0;
}

std::string process_text(const targets::ProcessId& id) {
  const std::string name = targets::process_name(id.pid);
  return "pid " + std::to_string(id.pid) + (name.empty() ? "" : " (" + name + ")");
}

// Resolves one target as the runner's start would, without starting anything; false when a run
// could not use it.
bool describe_target(faults::TargetHandle& handle, std::ostream& out) {
  const spec::Target& t = handle.spec();
  bool ok = true;
  out << "  " << t.name << ":";
  if (t.on) {
    // The agents chosen at run start find or start it there (docs/agents.md); nothing to look at here.
    out << " on agents";
    for (const auto& [label, value] : t.on->labels) out << " " << label << "=" << value;
    if (!t.on->host.empty()) out << " host=" << t.on->host;
    out << ", found or started by them when the run starts\n";
    return true;
  }
  if (t.attach) {
    auto id = targets::resolve(*t.attach);
    if (id) {
      handle.set_process(*id);
      out << " attached to " << process_text(*id);
    } else {
      out << " cannot attach: " << id.error();
      ok = false;
    }
  } else if (t.process) {
    out << " would start " << targets::describe_command(t.process->command);
    // Looked up as the start would; a missing program is the first thing a run would fail on.
    if (auto found =
            targets::find_executable(t.process->command.front(), targets::default_search_dir(), t.process->cwd);
        !found) {
      out << " - " << found.error();
      ok = false;
    }
  }
  if (t.endpoint) {
    const bool up = answers(*t.endpoint);
    out << (t.attach || t.process ? "," : "") << " endpoint " << t.endpoint->to_string()
        << (up ? " answers" : " does not answer");
    if (up && t.process) out << " (before the target is started: something else holds the port)";
  }
  out << "\n";
  if (t.proxy) {
    const bool free = free_to_listen(t.proxy->listen);
    out << "    proxy listens on " << t.proxy->listen.to_string() << " ("
        << (free ? "free" : "in use: a run fails here") << "), forwards to " << t.proxy->upstream.to_string() << "\n";
    ok = ok && free;
  }
  return ok;
}

// What a fault of this type would act on in this target.
std::string touches(const spec::Fault& fault, const faults::TargetHandle& handle) {
  const spec::Target& t = handle.spec();
  const spec::FaultType* type = spec::find_fault_type(fault.type);
  if (type == nullptr) return "target " + t.name;
  switch (type->needs) {
    case spec::Capability::signal_process:
    case spec::Capability::restart_process:
    case spec::Capability::started_process:
      if (auto id = handle.process()) return process_text(*id);
      return "the process chaosplus starts for " + t.name;
    case spec::Capability::proxy:
      return "connections through the proxy on " + (t.proxy ? t.proxy->listen.to_string() : std::string("?"));
    case spec::Capability::endpoint:
      return "packets to " + (t.endpoint ? t.endpoint->to_string() : std::string("the fault's address and port"));
    case spec::Capability::any: {
      // The target only names whom the fault is for; what it acts on is in its parameters.
      auto param = [&](const char* name) {
        auto it = fault.params.find(name);
        return it == fault.params.end() ? std::string() : it->second;
      };
      if (!param("namespace").empty()) return "the network namespace " + param("namespace");
      if (!param("path").empty()) return "the file " + param("path");
      if (!param("table").empty()) return "the file of PostgreSQL table " + param("table");
      return "what its parameters name";
    }
    case spec::Capability::patroni_member:
      return "the " + (t.patroni ? t.patroni->role : std::string("?")) + " of the Patroni cluster at the time";
  }
  return "target " + t.name;
}

}  // namespace

bool dry_run(const spec::Experiment& experiment, std::ostream& out) {
  out << "dry run of '" << experiment.name << "' (" << experiment.source_path
      << "): nothing is injected or started, no journal or ledger entry is written\n";
  bool ok = true;
  std::vector<std::unique_ptr<faults::TargetHandle>> handles;
  out << "targets:\n";
  if (experiment.targets.empty()) out << "  (none)\n";
  for (const spec::Target& t : experiment.targets) {
    handles.push_back(std::make_unique<faults::TargetHandle>(t, "/dev/null"));
    ok = describe_target(*handles.back(), out) && ok;
  }
  auto handle = [&](const std::string& name) -> faults::TargetHandle* {
    for (auto& h : handles) {
      if (h->name() == name) return h.get();
    }
    return nullptr;
  };
  out << "timeline of faults:\n";
  Duration phase_start{0};
  for (const spec::Phase& phase : experiment.phases) {
    out << "  phase '" << phase.name << "' at " << format_duration(phase_start) << " for "
        << format_duration(phase.duration) << (phase.faults.empty() ? ": no faults" : ":") << "\n";
    for (const spec::Fault& f : phase.faults) {
      const Duration length = f.length.value_or(phase.duration - f.at);
      out << "    at " << format_duration(phase_start + f.at) << " for " << format_duration(length) << ": ";
      faults::TargetHandle* target = handle(f.target);
      if (target == nullptr) {
        out << f.type << " on unknown target '" << f.target << "'\n";
        ok = false;
        continue;
      }
      if (target->spec().on) {
        out << f.type << " on " << f.target << ", run by its agents\n";
        continue;
      }
      // Built only to describe itself: make_fault touches nothing until inject().
      auto fault = faults::make_fault(f, *target);
      if (!fault) {
        out << f.type << " on " << f.target << ": " << fault.error() << "\n";
        ok = false;
        continue;
      }
      out << (*fault)->summary() << "; touches " << touches(f, *target) << "\n";
    }
    phase_start += phase.duration;
  }
  out << (ok ? "dry run: ok, a run would start\n" : "dry run: a run would fail, see above\n");
  return ok;
}

}  // namespace chaosplus::runner
