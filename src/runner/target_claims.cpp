#include "runner/target_claims.h"

#include "targets/attach.h"

namespace chaosplus::runner {

Result<std::vector<std::unique_ptr<targets::Claim>>> claim_targets(
    const std::vector<std::unique_ptr<faults::TargetHandle>>& handles, const targets::ClaimHolder& me) {
  std::vector<std::unique_ptr<targets::Claim>> claims;
  auto take = [&](const std::string& key, const std::string& what) -> Status {
    auto claim = targets::claim(key, what, me);
    if (!claim) return Error{claim.error()};
    claims.push_back(std::move(claim).value());
    return ok_status();
  };
  for (const auto& h : handles) {
    const spec::Target& t = h->spec();
    if (t.attach) {
      auto id = targets::resolve(*t.attach);
      if (!id) return Error{"target '" + t.name + "': " + id.error()};
      if (auto s = take(targets::process_claim_key(*id), "target '" + t.name + "' (" + targets::describe(*id) + ")");
          !s) {
        return Error{s.error()};
      }
      h->set_process(*id);
    }
    if (t.process && t.endpoint) {
      if (auto s = take(targets::address_claim_key(t.endpoint->host, t.endpoint->port),
                        "the address " + t.endpoint->to_string() + " of target '" + t.name + "'");
          !s) {
        return Error{s.error()};
      }
    }
    if (t.proxy) {
      if (auto s = take(targets::address_claim_key(t.proxy->listen.host, t.proxy->listen.port),
                        "the proxy address " + t.proxy->listen.to_string() + " of target '" + t.name + "'");
          !s) {
        return Error{s.error()};
      }
    }
  }
  return claims;
}

}  // namespace chaosplus::runner
