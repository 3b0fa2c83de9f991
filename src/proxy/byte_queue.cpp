#include "proxy/byte_queue.h"

#include <algorithm>

namespace chaosplus::proxy {

namespace {
// Buffers larger than this are given back once drained, so one burst does not pin memory.
constexpr std::size_t kKeepCapacity = 64 * 1024;
}  // namespace

std::string_view ByteQueue::front(std::size_t n) const { return {data_.data() + head_, std::min(n, size())}; }

void ByteQueue::append(std::string_view bytes) {
  if (bytes.empty()) return;
  // Reclaim the consumed prefix before growing, instead of growing forever.
  if (head_ > 0 && data_.size() + bytes.size() > data_.capacity() && head_ >= size()) {
    data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  data_.insert(data_.end(), bytes.begin(), bytes.end());
}

void ByteQueue::consume(std::size_t n) {
  head_ += std::min(n, size());
  if (head_ == data_.size()) clear();
}

void ByteQueue::clear() {
  if (data_.capacity() > kKeepCapacity) {
    std::vector<char>().swap(data_);
  } else {
    data_.clear();
  }
  head_ = 0;
}

}  // namespace chaosplus::proxy
