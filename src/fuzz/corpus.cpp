#include "fuzz/corpus.h"

#include <algorithm>
#include <cctype>

namespace chaosplus::fuzz {
namespace {

constexpr std::uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;

void mix(std::uint64_t& h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  h ^= 0xff;  // a separator, so "ab"+"c" and "a"+"bc" differ
  h *= kFnvPrime;
}

char type_letter(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: return 'o';
    case Json::value_t::array: return 'a';
    case Json::value_t::string: return 's';
    case Json::value_t::boolean: return 'b';
    case Json::value_t::null: return 'n';
    default: return 'd';  // numbers of every kind
  }
}

void mix(std::uint64_t& h, char c) {
  const char one[1] = {c};
  mix(h, std::string_view(one, 1));
}

void mix_keys(std::uint64_t& h, const Json& object) {
  // nlohmann keeps object keys sorted (std::map): the order is already canonical.
  for (auto it = object.begin(); it != object.end(); ++it) {
    mix(h, it.key());
    mix(h, type_letter(*it));
  }
}

}  // namespace

std::uint64_t response_shape(const net::Response& response) {
  std::uint64_t h = kFnvOffset;
  const std::string_view content_type = response.header("Content-Type");  // one case-insensitive search
  std::string type(content_type.substr(0, content_type.find(';')));
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  mix(h, type);
  if (type.find("json") == std::string::npos || response.body.empty()) return h;
  const Json body = Json::parse(response.body, nullptr, false);
  if (body.is_discarded()) {
    mix(h, "invalid json");
    return h;
  }
  mix(h, type_letter(body));
  if (body.is_object()) mix_keys(h, body);
  else if (body.is_array() && !body.empty()) {
    mix(h, type_letter(body.front()));
    if (body.front().is_object()) mix_keys(h, body.front());
  }
  return h;
}

bool Corpus::offer(const RequestCase& request, int status, std::uint64_t shape, Rng& rng, std::size_t bytes) {
  if (!seen_.emplace(request.operation_id, status, shape).second) return false;
  if (capacity_ == 0) return false;
  if (entries_.size() < capacity_) entries_.push_back({request, bytes});
  else entries_[rng.below(entries_.size())] = {request, bytes};
  return true;
}

const RequestCase* Corpus::pick(Rng& rng) const {
  if (entries_.empty()) return nullptr;
  // Rejection sampling: a big entry is kept with probability kSmallBytes / bytes. After a few
  // refusals (a corpus of big entries only) the last draw stands, so big entries are never starved.
  constexpr int kTries = 8;
  const Entry* e = nullptr;
  for (int i = 0; i < kTries; ++i) {
    e = &entries_[rng.below(entries_.size())];
    if (e->bytes <= kSmallBytes || rng.below(e->bytes) < kSmallBytes) break;
  }
  return &e->request;
}

}  // namespace chaosplus::fuzz
