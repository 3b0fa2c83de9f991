// The fuzzer's transport alone, for bench/fuzz_compare.sh: the Sender (src/fuzz/exchange.h) sends
// one GET again as soon as each answer arrives, on every connection, for a while, and prints what
// `chaosplus load` prints for its counts, so bench/measure.py reads both the same way.
//
//   chaosplus-sender-bench URL [--connections N] [--seconds S] [-k] [--own]
// --own sends every request on a connection of its own (as the fuzzer's raw protocol mutations
// go): the rate of connection setups, and whether the ports hold out (TIME_WAIT).
// Each request is a new string and each answer a whole net::Response (status, headers, body), as
// in the fuzzer; only the request generation and the oracles are left out.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "fuzz/exchange.h"

namespace {

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "sender-bench: %s\n", message.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chaosplus;
  if (argc < 2) die("usage: chaosplus-sender-bench URL [--connections N] [--seconds S] [-k] [--own]");
  auto url = net::Url::parse(argv[1]);
  if (!url) die(url.error());
  fuzz::SenderOptions options;
  options.base = *url;
  double seconds = 10;
  bool own = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--connections" && i + 1 < argc) {
      options.connections = std::atoi(argv[++i]);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--own") {
      own = true;
    } else if (a == "-k") {
      options.tls.verify = false;
    } else {
      die("unknown argument " + a);
    }
  }
  auto opened = fuzz::Sender::open(options);
  if (!opened) die(opened.error());
  fuzz::Sender& sender = **opened;
  const std::string request = "GET " + url->target + " HTTP/1.1\r\nHost: " + url->authority() + "\r\n\r\n";
  std::uint64_t responses = 0;
  std::map<std::string, std::uint64_t> outcomes;
  const std::int64_t start = fuzz::steady_now_ns();
  const std::int64_t end = start + static_cast<std::int64_t>(seconds * 1e9);
  bool sending = true;
  fuzz::Sender::Done again = [&](fuzz::Reply&& reply) {
    if (reply.outcome == fuzz::Outcome::response) {
      ++responses;
    } else if (sending) {  // not the requests cancel_all answers at the end
      ++outcomes[std::string(fuzz::outcome_name(reply.outcome))];
    }
    if (sending) sender.send(request, again, own);
  };
  // Twice as many requests as connections: one in flight on each, one waiting in the queue.
  for (int i = 0; i < 2 * options.connections; ++i) sender.send(request, again, own);
  sender.pump(end);
  sending = false;
  const double took = static_cast<double>(fuzz::steady_now_ns() - start) / 1e9;
  sender.cancel_all();
  std::printf("%llu requests in %.2fs\nRequests/sec: %.1f\n", static_cast<unsigned long long>(responses), took,
              static_cast<double>(responses) / took);
  for (const auto& [name, count] : outcomes)
    std::printf("%s: %llu\n", name.c_str(), static_cast<unsigned long long>(count));
  return 0;
}
