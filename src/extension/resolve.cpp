#include "extension/resolve.h"

#include <algorithm>
#include <map>

#include "extension/activity.h"
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
      if (auto* p = std::get_if<spec::ExtensionProbe>(&probe.kind)) check(p->call, Offer::probe);
    }
    for (spec::Phase& phase : experiment_.phases) {
      for (spec::Fault& fault : phase.faults) {
        if (fault.extension) check(*fault.extension, Offer::fault);
      }
      for (spec::ActivitySpec& activity : phase.activities) {
        const auto* use = activity.as<spec::ExtensionActivityUse>();
        if (use == nullptr) continue;
        spec::ExtensionCall call = use->call;
        if (check(call, Offer::activity)) activity.config = std::make_shared<const ExtensionActivityConfig>(call);
      }
    }
    return std::move(problems_);
  }

 private:
  void problem(const spec::Mark& at, std::string message) {
    problems_.push_back({experiment_.source_path, at.line, at.column, std::move(message)});
  }

  enum class Offer { fault, probe, activity };

  // True when the call is valid (its params_json is then set).
  bool check(spec::ExtensionCall& call, Offer offer) {
    const auto it = described_.find(call.extension);
    if (it == described_.end()) {
      // Unknown names are the loader's error; an extension that could not describe itself has one.
      if (experiment_.extensions.end() == std::find_if(experiment_.extensions.begin(), experiment_.extensions.end(),
                                                       [&](const auto& e) { return e.name == call.extension; })) {
        problem(call.mark, "unknown extension '" + call.extension + "', expected one declared under extensions:");
      }
      return false;
    }
    const Description& d = it->second;
    const std::vector<Operation>& offered = offer == Offer::fault   ? d.faults
                                            : offer == Offer::probe ? d.probes
                                                                    : d.activities;
    const char* kind = offer == Offer::fault ? "fault" : offer == Offer::probe ? "probe" : "activity";
    const Operation* op = nullptr;
    for (const Operation& o : offered) {
      if (o.name == call.operation) op = &o;
    }
    if (op == nullptr) {
      problem(call.mark, "extension '" + call.extension + "' offers no " + kind + " '" + call.operation +
                             "' (it offers: " + names_of(offered) + ")");
      return false;
    }
    TypedParams typed = type_params(*op, call.params);
    for (const ParamProblem& p : typed.problems) {
      const auto mark = call.param_marks.find(p.param);
      problem(mark == call.param_marks.end() ? call.mark : mark->second,
              "extension '" + call.extension + "': " + p.message);
    }
    if (!typed.problems.empty()) return false;
    call.params_json = std::move(typed.json);
    return true;
  }

  spec::Experiment& experiment_;
  std::map<std::string, Description> described_;
  std::vector<spec::Diagnostic> problems_;
};

}  // namespace

std::vector<spec::Diagnostic> resolve(spec::Experiment& experiment) { return Resolver(experiment).run(); }

}  // namespace chaosplus::extension
