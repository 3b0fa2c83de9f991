#pragma once
// Mutation of cases already sent (the corpus of requests that reached something new): small
// changes that keep most of what made the case interesting. Seeded and deterministic.
#include <vector>

#include "fuzz/request_case.h"
#include "fuzz/rng.h"
#include "openapi/document.h"

namespace chaosplus::fuzz {

struct MutationContext {
  const openapi::Operation* operation = nullptr;     // the case's operation: schemas for edge values
  const std::vector<RequestCase>* corpus = nullptr;  // other cases to borrow values from
};

// One JSON-structure-aware change: a leaf (body field, query, path, header or cookie value)
// replaced by an edge or interesting value, a field dropped, duplicated or added, a value's type
// changed, a value swapped with one from the corpus. The result's `mutation` says what was done
// ("body.items/0/qty: replaced by -1 below minimum 1"); `expect_valid` is false unless the change
// is known to conform. A raw case (protocol mutation) is returned with `raw` byte-mutated instead.
RequestCase mutate(const RequestCase& base, Rng& rng, const MutationContext& context = {});

// Byte-level: the body as render() would write it, damaged (bit flips, byte inserts and deletes,
// interesting bytes, chunk duplication, truncation) into `raw_body`, at most ~1 MiB. A case
// without a body gets one made of interesting bytes.
RequestCase mutate_bytes(const RequestCase& base, Rng& rng);

// The byte damage itself, on any bytes (used by both above, and by the engine on raw requests).
std::string damage_bytes(std::string bytes, Rng& rng, std::string* what = nullptr);

}  // namespace chaosplus::fuzz
