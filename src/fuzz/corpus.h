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
  // entry takes the place of one drawn with `rng`.
  bool offer(const RequestCase& request, int status, std::uint64_t shape, Rng& rng);
  // An entry drawn with `rng`; null when empty.
  const RequestCase* pick(Rng& rng) const;
  std::size_t size() const { return entries_.size(); }
  std::size_t behaviours() const { return seen_.size(); }  // distinct tuples seen

 private:
  std::size_t capacity_;
  std::set<std::tuple<std::string, int, std::uint64_t>> seen_;
  std::vector<RequestCase> entries_;
};

}  // namespace chaosplus::fuzz
