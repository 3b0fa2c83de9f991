#pragma once
// The seeded bugs of demo-shop-api, each off unless named with --bug. They give the fuzzer and the
// security probes something known to find (and with all of them off, the shop is the control that
// must yield no finding). Each time a bug changes what the shop does, it prints "bug-hit: NAME" on
// stderr: the ground truth benchmarks and tests count; the HTTP behaviour does not depend on it.
#include <bitset>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace chaosplus::demo {

enum class Bug {
  boundary_500,        // /products?limit=0 passes validation and divides by zero: 500
  stack_leak,          // /products/{id} with a non-number id: the error carries a stack trace
  schema_drift,        // products on sale have their price as a string
  use_after_delete,    // a deleted order can still be read
  bola,                // another user's order can be read, changed and deleted
  sql_injection,       // /products?search= is concatenated into the query text
  path_traversal,      // /files?name= may leave the files folder
  template_injection,  // /greet?name= evaluates {{a*b}}
  reflected_xss,       // /page?q= is reflected without escaping
  cors,                // any Origin is allowed, with credentials
  crash,               // /products/{id} with a negative id aborts the process
  hang,                // /page?q= of 512 characters or more never answers (30 s)
  memory_leak,         // the recent searches never forget (256 KiB per product list, up to 384 MiB)
  accept_invalid,      // a quantity below 1 is accepted with 201/200
  fail_open,           // token service down, slow or broken: the caller is let in as "anonymous"
  count_
};

class Bugs {
 public:
  // Names from --bug values: each a comma list of names, "all" or "none". Unknown names are an
  // error that lists the known ones.
  static Result<Bugs> parse(const std::vector<std::string>& values);
  static const std::vector<std::string>& names();  // in enum order

  bool on(Bug bug) const { return set_.test(static_cast<std::size_t>(bug)); }
  // True when the bug is on, and then reports the hit: call it where the bug takes effect.
  bool trigger(Bug bug) const;
  std::string describe() const;  // "none" or the names, comma separated

 private:
  std::bitset<static_cast<std::size_t>(Bug::count_)> set_;
};

// Writes "bug-hit: NAME\n" to stderr in one write, so lines from many threads never interleave.
void report_hit(Bug bug);

}  // namespace chaosplus::demo
