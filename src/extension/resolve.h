#pragma once
// Checking an experiment's uses of extensions against what each extension says about itself: every
// extension declared under `extensions:` is started once and asked to `describe` itself; each fault
// and probe that names it must be one it offers, with parameters it takes, of the right kinds. The
// typed parameters are written into each call (spec::ExtensionCall::params_json). Run by `validate`
// and `run` after the file has loaded; loading alone never starts a program.
#include <vector>

#include "spec/experiment.h"
#include "spec/loader.h"

namespace chaosplus::extension {

// Every problem at its position in the experiment's file (Experiment::source_path); empty when all
// uses are valid, and then every call has its params_json.
std::vector<spec::Diagnostic> resolve(spec::Experiment& experiment);

}  // namespace chaosplus::extension
