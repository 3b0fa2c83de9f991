#pragma once
// A small network the project owns, for kernel-fault tests and experiments: two network namespaces
// joined by a veth pair, with addresses from a private /30 that exist only inside them, so traffic
// between the two sides reaches nothing else. Removing the namespaces removes the veth with them.
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace chaosplus::faults {

class VethLab {
 public:
  struct Side {
    std::string netns;      // "chaosplus-<tag>-<pid>-<n>-a"
    std::string interface;  // "cpa0" (side a), "cpb0" (side b)
    std::string address;    // "10.251.0.1" (a), "10.251.0.2" (b); prefix /30
  };

  // Creates both namespaces with loopback and veth up; `tag` is 1..12 of [a-z0-9]. On failure
  // nothing it made is left behind.
  static Result<std::unique_ptr<VethLab>> create(std::string_view tag);
  ~VethLab();  // remove(), errors ignored: a destructor cannot report them
  VethLab(const VethLab&) = delete;
  VethLab& operator=(const VethLab&) = delete;

  const Side& a() const { return a_; }
  const Side& b() const { return b_; }

  // Deletes both namespaces; idempotent; verifies they are gone.
  Status remove();

 private:
  VethLab(Side a, Side b) : a_(std::move(a)), b_(std::move(b)) {}
  Status build();
  Side a_;
  Side b_;
};

}  // namespace chaosplus::faults
