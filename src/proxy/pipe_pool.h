#pragma once
// Kernel pipes for splice(2): bytes move socket -> pipe -> socket without a copy through user
// space. A pipe is borrowed by a link only while it holds bytes and given back once drained, so a
// few pipes serve many connections; the pool caps how many exist (each costs two descriptors),
// and an empty pool means "copy instead", never "wait".
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "net/socket.h"

namespace chaosplus::proxy {

struct Pipe {
  net::Fd read;
  net::Fd write;
  std::size_t held = 0;  // bytes in the pipe
};

class PipePool {
 public:
  // At most `limit` pipes at once (borrowed and idle), each asked to hold `pipe_size` bytes.
  PipePool(std::size_t limit, std::size_t pipe_size) : limit_(limit), pipe_size_(pipe_size) {}

  // An empty pipe, made if none is idle; nullopt at the limit or when pipe2 fails (descriptors).
  std::optional<Pipe> borrow();
  // A drained pipe goes back to the idle list; one still holding bytes is closed (they are lost
  // with the connection that owned them).
  void give_back(Pipe pipe);
  // Closes the idle pipes: their descriptors are wanted for connections.
  void release_idle();

  std::size_t pipe_size() const { return pipe_size_; }
  std::size_t in_use() const { return existing_ - idle_.size(); }
  // Bytes the connections moved through the pool's pipes, counted by them.
  void count_moved(std::size_t bytes) { moved_ += bytes; }
  std::uint64_t moved() const { return moved_; }

 private:
  std::size_t limit_;
  std::size_t pipe_size_;
  std::size_t existing_ = 0;
  std::vector<Pipe> idle_;
  std::uint64_t moved_ = 0;
};

}  // namespace chaosplus::proxy
