#pragma once
// What the parts of the load worker share (private to worker.cpp, worker_connection.cpp and
// worker_seconds.cpp): limits of the loop, the clock, and a connection's state.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "load/response_parser.h"
#include "load/tls_transport.h"
#include "load/worker.h"

namespace chaosplus::load {

inline constexpr std::uint32_t kNoUser = UINT32_MAX;
inline constexpr std::uint32_t kUserTimer = 0;
inline constexpr std::uint32_t kReconnectTimer = 1;
inline constexpr std::size_t kReadBuffer = 64 * 1024;
inline constexpr int kMaxEvents = 512;
inline constexpr std::int64_t kHousekeepingNs = 10'000'000;  // stages, snapshots: every 10 ms
inline constexpr std::int64_t kTimeoutScanNs = 100'000'000;
inline constexpr std::int64_t kMinBackoffNs = 1'000'000;
inline constexpr std::int64_t kMaxBackoffNs = 1'000'000'000;
inline constexpr std::int64_t kSecondNs = 1'000'000'000;
// A second closes this long after its end once its jobs are resolved: a job is created a little
// after its intended time when the loop runs late.
inline constexpr std::int64_t kSettleNs = 50'000'000;
// Connects in progress at once per thread: tens of thousands of SYNs in one burst overflow the
// server's listen backlog and turn into connect timeouts.
inline constexpr std::uint32_t kMaxConnecting = 512;

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t to_ns(Duration d) { return d.count(); }

// handshaking: TCP is up, the TLS handshake is under way (counted as connecting).
enum class ConnState : std::uint8_t { closed, connecting, handshaking, idle, writing, reading };

struct Worker::Conn {
  int fd = -1;
  ConnState state = ConnState::closed;
  bool capturing = false;
  std::uint32_t index = 0;
  std::uint32_t generation = 0;  // bumped on close: tells stale epoll events from current ones
  std::uint32_t out_len = 0;
  std::uint32_t out_off = 0;
  const char* out = nullptr;
  std::int64_t sent_ns = 0;
  std::int64_t since_ns = 0;  // connect started
  std::int64_t backoff_ns = 0;
  Job job{};
  ResponseParser parser;
  std::string out_buffer;                    // requests built per user
  std::unique_ptr<ResponseCapture> capture;  // steps that extract values
  std::unique_ptr<TlsStream> tls;            // https://: kept across reconnects for its session
};

}  // namespace chaosplus::load
