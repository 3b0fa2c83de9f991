#pragma once
// What client.cpp, watch.cpp and lease_keeper.cpp share behind client.h. Internal to the module.
#include <memory>
#include <string>

#include "etcd/client.h"
#include "etcd/core.h"

namespace chaosplus::etcd {

struct Client::Impl {
  // Shared with the client's watches, so a watch outliving its Client still has its members.
  std::shared_ptr<Core> core;
};

// Client::keep_alive with a deadline and a cancel flag (the lease keeper's renewals).
Result<Duration> lease_keep_alive(Core& core, std::int64_t lease, const CallOptions& how);

std::unique_ptr<Watch> start_watch(std::shared_ptr<Core> core, const std::string& prefix, std::int64_t start_revision,
                                   Client::OnEvents on_events, Client::OnError on_error);

}  // namespace chaosplus::etcd
