#pragma once
// The feedback corpus: a request that reaches a new (operation, status, response shape) joins it,
// and the engine mutates corpus entries further, so the search spends its time around behaviours
// it has not seen often instead of re-drawing from scratch. Shape = the sorted top-level keys of a
// JSON body with the type of each (of the first item for a list), or the content type otherwise.
// Deterministic: it changes only when the engine applies feedback, in request order.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "fuzz/request_case.h"
#include "fuzz/rng.h"
#include "net/http_message.h"

namespace chaosplus::fuzz {

// A 64-bit hash of the response's shape; responses of one shape hash alike whatever their values.
std::uint64_t response_shape(const net::Response& response);

class Corpus {
 public:
  explicit Corpus(std::size_t capacity = 4096) : capacity_(capacity) {}

  // Adds `request` when (operation, status, shape) is new; true when it did. When full, the new
  // entry takes the place of one drawn with `rng`. `bytes`: its rendered size (0: unknown, small).
  bool offer(const RequestCase& request, int status, std::uint64_t shape, Rng& rng, std::size_t bytes = 0);
  // An entry drawn with `rng`; null when empty. Entries larger than kSmallBytes are drawn less, in
  // proportion to kSmallBytes / bytes (a 64 KiB one about 1/16 as often as a small one): every
  // mutation of an entry costs its size again in copying, encoding and sending, so a few huge
  // entries (the 64 KiB value that reached a 414) would otherwise take most of the time.
  const RequestCase* pick(Rng& rng) const;
  static constexpr std::size_t kSmallBytes = 4096;
  std::size_t size() const { return entries_.size(); }
  std::size_t behaviours() const { return seen_.size(); }  // distinct tuples seen

 private:
  std::size_t capacity_;
  std::set<std::tuple<std::string, int, std::uint64_t>> seen_;
  struct Entry {
    RequestCase request;
    std::size_t bytes = 0;
  };
  std::vector<Entry> entries_;
};

}  // namespace chaosplus::fuzz
