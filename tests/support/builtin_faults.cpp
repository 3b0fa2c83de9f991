// Linked into every test program as an object file (not through a library, where the linker would
// drop it): registers the built-in fault types before any test runs, as the chaosplus program does
// at the start of main (cli/main.cpp).
#include "faults/registry.h"

namespace {

const bool registered = (chaosplus::faults::register_builtin_faults(), true);

}  // namespace
