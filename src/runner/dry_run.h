#pragma once
// `chaosplus run --dry-run`: everything a run would find out before touching anything, printed for
// a person. The experiment is loaded and valid; targets are resolved (attach rules to pids, the
// ports they serve and the proxy listens on checked), and the timeline of faults is printed with
// what each would touch. Nothing is injected or started, and neither the journal nor the ledger is
// written.
#include <iosfwd>

#include "spec/experiment.h"

namespace chaosplus::runner {

// True when every target was found as a run needs it (attach rules resolve, proxy listen
// addresses are free); what is wrong is printed on `out` as well.
bool dry_run(const spec::Experiment& experiment, std::ostream& out);

}  // namespace chaosplus::runner
