#include "extension/resolve.h"

#include <algorithm>
#include <map>

#include "extension/session.h"

namespace chaosplus::extension {
namespace {

std::string names_of(const std::vector<Operation>& ops) {
  std::string out;
  for (const Operation& op : ops) out += (out.empty() ? "" : ", ") + op.name;
  return out.empty() ? "none" : out;
}

class Resolver {
 public:
  explicit Resolver(spec::Experiment& experiment) : experiment_(experiment) {}

  std::vector<spec::Diagnostic> run() {
    for (const spec::ExtensionCommand& command : experiment_.extensions) {
      auto d = describe(command);
      if (!d) {
        problem(command.mark, d.error());
        continue;
      }
      described_.emplace(command.name, std::move(*d));
    }
    for (spec::Probe& probe : experiment_.steady_state.probes) {
      if (auto* p = std::get_if<spec::ExtensionProbe>(&probe.kind)) check(p->call, /*fault=*/false);
    }
    for (spec::Phase& phase : experiment_.phases) {
      for (spec::Fault& fault : phase.faults) {
        if (fault.extension) check(*fault.extension, /*fault=*/true);
      }
    }
    return std::move(problems_);
  }

 private:
  void problem(const spec::Mark& at, std::string message) {
    problems_.push_back({experiment_.source_path, at.line, at.column, std::move(message)});
  }

  void check(spec::ExtensionCall& call, bool fault) {
    const auto it = described_.find(call.extension);
    if (it == described_.end()) {
      // Unknown names are the loader's error; an extension that could not describe itself has one.
      if (experiment_.extensions.end() == std::find_if(experiment_.extensions.begin(), experiment_.extensions.end(),
                                                       [&](const auto& e) { return e.name == call.extension; })) {
        problem(call.mark, "unknown extension '" + call.extension + "', expected one declared under extensions:");
      }
      return;
    }
    const Description& d = it->second;
    const Operation* op = fault ? d.find_fault(call.operation) : d.find_probe(call.operation);
    if (op == nullptr) {
      problem(call.mark, "extension '" + call.extension + "' offers no " + (fault ? "fault" : "probe") + " '" +
                             call.operation + "' (it offers: " + names_of(fault ? d.faults : d.probes) + ")");
      return;
    }
    TypedParams typed = type_params(*op, call.params);
    for (const ParamProblem& p : typed.problems) {
      const auto mark = call.param_marks.find(p.param);
      problem(mark == call.param_marks.end() ? call.mark : mark->second,
              "extension '" + call.extension + "': " + p.message);
    }
    if (typed.problems.empty()) call.params_json = std::move(typed.json);
  }

  spec::Experiment& experiment_;
  std::map<std::string, Description> described_;
  std::vector<spec::Diagnostic> problems_;
};

}  // namespace

std::vector<spec::Diagnostic> resolve(spec::Experiment& experiment) { return Resolver(experiment).run(); }

}  // namespace chaosplus::extension
