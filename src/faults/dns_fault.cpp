// dns: the run's resolver (dns/server.h) answers chosen names of a started target wrongly: NXDOMAIN,
// SERVFAIL, REFUSED, no answer at all, late, or with another loopback address, for a share of the
// lookups. A target with a dns fault is started in its own mount namespace with a resolv.conf naming
// the run's resolver (runner/placement.cpp), so the host and every other process resolve as before.
// inject adds the fault's rule to the resolver's rules file (dns/rules.h); revert, and undo from
// the ledger record alone, take it out again (nothing to do when the file went with its run).
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/allowed_hosts.h"
#include "core/loopback.h"
#include "dns/rules.h"
#include "faults/registry.h"
#include "faults/target_handle.h"

namespace chaosplus::faults {
namespace {

constexpr std::string_view kKind = "dns.rule";

constexpr std::array<std::string_view, 6> kAnswers{"nxdomain", "servfail", "refused", "timeout", "delay", "address"};

// clang-format off
constexpr std::array<spec::FaultParam, 5> kParams{{
    {"names", spec::ParamKind::text, "", true, {},
     "the names it acts on, comma-separated: exact (tokens.shop.test) or every name below a suffix (*.shop.test)"},
    {"answer", spec::ParamKind::choice, "nxdomain", false, kAnswers,
     "nxdomain (no such name), servfail, refused, timeout (no answer at all), delay (the usual answer, late), "
     "address (another loopback address)"},
    {"delay", spec::ParamKind::duration, "", false, {},
     "how long before the answer: required with answer: delay, optional with the others"},
    {"address", spec::ParamKind::ip_address, "", false, {},
     "with answer: address, the loopback address (127.0.0.0/8 or ::1) the names resolve to instead"},
    {"share", spec::ParamKind::share, "100%", false, {}, "the share of the lookups of these names it answers"},
}};
// clang-format on

const spec::FaultType& dns_type() { return *spec::find_fault_type("dns"); }

std::vector<spec::ParamProblem> check(const spec::Fault& fault) {
  auto p = spec::FaultParams::read(dns_type(), fault);
  if (!p) return {{"", p.error()}};
  std::vector<spec::ParamProblem> problems;
  if (auto names = dns::parse_name_list(p->text("names")); !names) problems.push_back({"names", names.error()});
  const std::string& answer = p->text("answer");
  if (answer == "address" && !p->given("address")) {
    problems.push_back({"answer", "address needs 'address', the loopback address to answer with"});
  }
  if (p->given("address")) {
    if (answer != "address") {
      problems.push_back({"address", "found an address with answer: " + answer + ", expected answer: address"});
    } else if (!allowed_hosts().allows_address(p->text("address"))) {
      problems.push_back({"address", "found " + p->text("address") +
                                         ", expected an address on the allow-list (a wrong answer may only send the "
                                         "target where experiments may go); " +
                                         allow_hint()});
    }
  }
  if (answer == "delay" && !p->given("delay")) {
    problems.push_back({"answer", "delay needs 'delay', how long to hold each answer (e.g. 2s)"});
  }
  if (p->given("delay") && p->duration("delay") <= Duration::zero()) {
    problems.push_back({"delay", "found " + p->text("delay") + ", expected a positive duration such as 2s"});
  }
  return problems;
}

const std::array<spec::FaultType, 1>& types() {
  static const std::array<spec::FaultType, 1> kTypes{{
      {"dns", spec::Capability::started_process, kParams,
       "answer chosen names of a started target wrongly through the run's resolver: NXDOMAIN, SERVFAIL, "
       "no answer, late, or another loopback address",
       false, check},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 1> kKinds{kKind};

// The names in /etc/hosts: glibc answers them from the file before it asks any server ("hosts:
// files dns" in nsswitch.conf), so a dns fault on one of them could not act.
std::vector<std::string> hosts_file_names() {
  std::vector<std::string> names;
  std::ifstream in("/etc/hosts");
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string word;
    words >> word;  // the address
    while (words >> word) {
      for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      names.push_back(word);
    }
  }
  return names;
}

Status remove_rule(const std::string& rules, const std::string& id) {
  if (rules.empty() || ::access(rules.c_str(), F_OK) != 0) return ok_status();  // its run's resolver is gone
  return dns::edit_rules(
      rules, [&](dns::RuleFile& f) { std::erase_if(f.rules, [&](const dns::Rule& r) { return r.id == id; }); });
}

class DnsFault final : public Fault {
 public:
  DnsFault(std::string target, std::string rules, dns::Rule rule)
      : target_(std::move(target)), rules_(std::move(rules)), rule_(std::move(rule)) {}

  std::string kind() const override { return std::string(kKind); }
  std::string summary() const override {
    std::string names;
    for (const auto& n : rule_.names) names += (names.empty() ? "" : ",") + n;
    std::string s = "dns " + std::string(dns::answer_name(rule_.answer)) + " for " + names + " of " + target_;
    if (rule_.answer == dns::Answer::address) s += " -> " + rule_.address;
    if (rule_.delay_ms > 0) s += " after " + std::to_string(rule_.delay_ms) + "ms";
    if (rule_.share < 1.0) s += " (" + std::to_string(static_cast<int>(rule_.share * 100 + 0.5)) + "% of lookups)";
    return s;
  }
  std::string record() const override {
    return nlohmann::json{{"target", target_},
                          {"rules", rules_},
                          {"id", rule_.id},
                          {"names", rule_.names},
                          {"answer", dns::answer_name(rule_.answer)}}
        .dump();
  }
  Status inject(HaltSwitch&) override {
    return dns::edit_rules(rules_, [&](dns::RuleFile& f) {
      std::erase_if(f.rules, [&](const dns::Rule& r) { return r.id == rule_.id; });
      f.rules.push_back(rule_);
    });
  }
  Status revert(HaltSwitch&) override { return remove_rule(rules_, rule_.id); }

 private:
  std::string target_;
  std::string rules_;
  dns::Rule rule_;
};

Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  if (target.resolver_rules.empty()) {
    return Error{"fault 'dns' on '" + target.name() +
                 "': the target was not started with the run's resolver (dns faults need a target the run starts)"};
  }
  auto p = spec::FaultParams::read(dns_type(), fault);
  if (!p) return Error{p.error()};
  auto names = dns::parse_name_list(p->text("names"));
  if (!names) return Error{"fault 'dns' on '" + target.name() + "': " + names.error()};
  for (const std::string& host : hosts_file_names()) {
    for (const std::string& pattern : *names) {
      if (dns::name_matches(pattern, host)) {
        return Error{"fault 'dns' on '" + target.name() + "': the name " + host +
                     " is in /etc/hosts, which glibc reads before it asks the resolver, so the fault could not act "
                     "on it; use a name that is not there"};
      }
    }
  }
  static std::atomic<int> counter{0};
  dns::Rule rule;
  rule.id = target.name() + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  rule.names = std::move(*names);
  rule.answer = *dns::answer_from_name(p->text("answer"));
  if (p->given("delay")) {
    rule.delay_ms = std::chrono::duration_cast<std::chrono::milliseconds>(p->duration("delay")).count();
  }
  if (p->given("address")) rule.address = p->text("address");
  rule.share = p->share("share");
  return std::unique_ptr<Fault>(std::make_unique<DnsFault>(target.name(), target.resolver_rules, std::move(rule)));
}

Status undo_dns(std::string_view, std::string_view record) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  return remove_rule(r.value("rules", std::string()), r.value("id", std::string()));
}

Status prepare(const spec::Fault&, LaunchPrep& prep) {
  prep.wants_resolver = true;
  return ok_status();
}

}  // namespace

FaultFamily dns_fault_family() { return {"dns", types(), kKinds, make, undo_dns, prepare}; }

}  // namespace chaosplus::faults
