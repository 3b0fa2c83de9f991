// The run's resolver (dns/server.h): started once, before the first started target that has a dns
// fault or a `resolve:` table, recorded in the ledger like the fault proxy (so `recover` stops it
// after a crash), and stopped with the run's other processes. Its folder under the state folder
// holds the rules file (the `resolve:` tables of the run's targets and the rules of the dns faults
// that are on) and the resolv.conf bound over /etc/resolv.conf in those targets' mount namespaces.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "dns/rules.h"
#include "runner/placement.h"

namespace chaosplus::runner {
Result<Placement::Resolver> Placement::ensure_resolver(const std::string& state_dir) {
  if (resolver_) return *resolver_;
  // One resolver answers every started target of the run: a name gets one address.
  dns::RuleFile file;
  std::map<std::string, std::string> whose;
  for (const spec::Target& t : experiment_.targets) {
    if (!t.process || t.attach) continue;
    for (const auto& [name, address] : t.process->resolve) {
      if (auto [it, fresh] = file.resolve.emplace(name, address); !fresh && it->second != address) {
        return Error{"resolve: target '" + whose[name] + "' resolves " + name + " to " + it->second + " and target '" +
                     t.name + "' to " + address + "; the run's one resolver answers one address per name"};
      }
      whose.emplace(name, t.name);
    }
  }
  const std::string base = state_dir.empty() ? log_dir_ : state_dir;
  std::error_code ec;
  // Absolute: the dns faults' ledger records name the rules file, and `recover` may run elsewhere.
  const std::filesystem::path dir = std::filesystem::absolute(std::filesystem::path(base) / "dns" / run_id_, ec);
  if (ec) return Error{"cannot find the folder for the run's resolver below " + base + ": " + ec.message()};
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot make " + dir.string() + ": " + ec.message()};
  ::chmod(dir.c_str(), 0700);
  Resolver r{(dir / "rules.json").string(), (dir / "resolv.conf").string()};
  if (auto s = dns::write_rules(r.rules, file); !s) return Error{"the run's resolver: " + s.error()};

  spec::ProcessLaunch launch;
  launch.command = {"resolver", "--rules", r.rules};
  auto told = start_telling("resolver", launch, "resolver.address");
  if (!told) return Error{told.error()};
  {
    std::ofstream conf(r.resolv_conf, std::ios::trunc);
    conf << "# chaosplus run " << run_id_ << ": this target's names go to the run's resolver (docs/faults.md, "
         << "\"DNS faults\")\nnameserver " << told->address << "\n";
    if (!conf.flush()) return Error{"cannot write " + r.resolv_conf};
  }
  ::chmod(r.resolv_conf.c_str(), 0644);
  bus_.publish(Event("resolver.placed").with("address", told->address).with("rules", r.rules));
  resolver_ = r;
  return r;
}

}  // namespace chaosplus::runner
