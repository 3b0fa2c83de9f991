#pragma once
// What the fuzzer can learn about the target's process from /proc: whether it is alive, and how
// much memory it holds (the memory growth oracle). Linux only; absent facts are nullopt.
#include <cstdint>
#include <optional>

namespace chaosplus::fuzz {

bool process_alive(std::int64_t pid);
// VmRSS of /proc/<pid>/status, in bytes.
std::optional<std::uint64_t> resident_bytes(std::int64_t pid);

}  // namespace chaosplus::fuzz
