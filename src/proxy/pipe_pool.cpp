#include "proxy/pipe_pool.h"

#include <fcntl.h>
#include <unistd.h>

namespace chaosplus::proxy {

std::optional<Pipe> PipePool::borrow() {
  if (!idle_.empty()) {
    Pipe pipe = std::move(idle_.back());
    idle_.pop_back();
    return pipe;
  }
  if (existing_ >= limit_) return std::nullopt;
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return std::nullopt;
  Pipe pipe{net::Fd(fds[0]), net::Fd(fds[1]), 0};
  // Bigger pipes mean fewer splice calls per megabyte; refused (per-user pipe quota), the
  // default size still works.
  ::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(pipe_size_));
  ++existing_;
  return pipe;
}

void PipePool::give_back(Pipe pipe) {
  if (pipe.held == 0 && pipe.read.valid()) {
    idle_.push_back(std::move(pipe));
    return;
  }
  --existing_;  // its descriptors close here
}

void PipePool::release_idle() {
  existing_ -= idle_.size();
  idle_.clear();
}

}  // namespace chaosplus::proxy
