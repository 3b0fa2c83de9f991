#pragma once
// What the fuzzer can learn about the target's process from /proc: whether it is alive, and how
// much memory it holds (the memory growth oracle). Linux only; absent facts are nullopt.
#include <cstdint>
#include <optional>
#include <string>

namespace chaosplus::fuzz {

bool process_alive(std::int64_t pid);
// VmRSS of /proc/<pid>/status, in bytes.
std::optional<std::uint64_t> resident_bytes(std::int64_t pid);
// The program a process runs (/proc/<pid>/exe), to know a restarted target from another program.
std::optional<std::string> executable(std::int64_t pid);
// A process with a TCP socket listening on `port` (IPv4 or IPv6) that runs `program`: the target
// as its supervisor restarted it. nullopt when there is none (or /proc does not tell).
std::optional<std::int64_t> listener_running(int port, const std::string& program);

}  // namespace chaosplus::fuzz
