#pragma once
// A FIFO of bytes in one contiguous buffer: append at the back, consume from the front. Memory is
// taken only while bytes wait, so an idle connection costs nothing here.
#include <cstddef>
#include <string_view>
#include <vector>

namespace chaosplus::proxy {

class ByteQueue {
 public:
  bool empty() const { return head_ == data_.size(); }
  std::size_t size() const { return data_.size() - head_; }
  std::string_view front(std::size_t n) const;  // the first min(n, size()) bytes
  std::string_view all() const { return front(size()); }

  void append(std::string_view bytes);
  void consume(std::size_t n);  // drops the first min(n, size()) bytes
  void clear();

 private:
  std::vector<char> data_;
  std::size_t head_ = 0;
};

}  // namespace chaosplus::proxy
