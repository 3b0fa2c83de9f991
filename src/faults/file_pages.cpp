#include "faults/file_pages.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <set>

namespace chaosplus::faults {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

std::string errno_text() { return std::strerror(errno); }

Error io_error(const std::string& what) { return Error{what + ": " + errno_text(), ErrorCode::io_error}; }

// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
Result<std::size_t> pread_full(int fd, unsigned char* into, std::size_t count, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < count) {
    const ssize_t n = ::pread(fd, into + done, count - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{std::string("read: ") + errno_text(), ErrorCode::io_error};
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Status pwrite_full(int fd, const unsigned char* bytes, std::size_t count, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < count) {
    const ssize_t n = ::pwrite(fd, bytes + done, count - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{std::string("write: ") + errno_text(), ErrorCode::io_error};
    done += static_cast<std::size_t>(n);
  }
  return ok_status();
}

class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new(), EVP_MD_CTX_free) { EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr); }
  void add(const unsigned char* bytes, std::size_t count) { EVP_DigestUpdate(context_.get(), bytes, count); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context_.get(), digest, &length);
    return to_hex({digest, length});
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context_;
};

constexpr std::size_t kChunk = 1 << 20;

// The same numbers from a seed with every standard library (std::uniform_int_distribution is not):
// a recorded seed draws the same pages and bytes again.
std::uint64_t below(std::mt19937_64& random, std::uint64_t n) { return n == 0 ? 0 : random() % n; }

}  // namespace

Result<std::vector<PageFlip>> plan_flips(const PagePlan& plan) {
  if (plan.page_size == 0) return Error{"the page size is 0", ErrorCode::invalid_argument};
  const std::uint64_t pages_in_file = plan.file_size / plan.page_size;
  if (pages_in_file == 0) {
    return Error{"the file is " + std::to_string(plan.file_size) + " bytes, less than one page of " +
                     std::to_string(plan.page_size),
                 ErrorCode::invalid_argument};
  }
  const std::uint64_t to = plan.to == 0 ? plan.page_size : plan.to;
  if (plan.bytes == 0 || to > plan.page_size || plan.from >= to || plan.bytes > to - plan.from) {
    return Error{std::to_string(plan.bytes) + " bytes do not fit in bytes " + std::to_string(plan.from) + ".." +
                     std::to_string(to) + " of a page of " + std::to_string(plan.page_size),
                 ErrorCode::invalid_argument};
  }
  const std::uint64_t last = plan.first_page + pages_in_file - 1;
  const std::string pages_text = "the file has " + std::to_string(pages_in_file) + " full page(s) of " +
                                 std::to_string(plan.page_size) + " bytes, numbered " +
                                 std::to_string(plan.first_page) + " to " + std::to_string(last);
  std::mt19937_64 random(plan.seed);
  std::vector<std::uint64_t> chosen;
  if (!plan.pages.empty()) {
    for (auto page : std::set<std::uint64_t>(plan.pages.begin(), plan.pages.end())) {
      if (page < plan.first_page || page > last) {
        return Error{"page " + std::to_string(page) + " is not in the file: " + pages_text, ErrorCode::invalid_argument};
      }
      chosen.push_back(page);
    }
  } else {
    const std::set<std::uint64_t> never(plan.never.begin(), plan.never.end());
    std::uint64_t eligible = pages_in_file;
    for (auto p : never) eligible -= (p >= plan.first_page && p <= last) ? 1 : 0;
    if (plan.count == 0 || plan.count > eligible) {
      return Error{std::to_string(plan.count) + " page(s) asked, " + std::to_string(eligible) +
                       " may be drawn: " + pages_text + (never.empty() ? "" : " (the first is left alone unless named)"),
                   ErrorCode::invalid_argument};
    }
    // Drawn without repeats by drawing again: cheap for the few pages an experiment corrupts, and
    // bounded (count <= eligible) for a small file asked for most of its pages.
    std::set<std::uint64_t> taken;
    while (taken.size() < plan.count) {
      const std::uint64_t page = plan.first_page + below(random, pages_in_file);
      if (!never.contains(page)) taken.insert(page);
    }
    chosen.assign(taken.begin(), taken.end());
  }
  std::vector<PageFlip> flips;
  for (auto page : chosen) {
    PageFlip f;
    f.page = page;
    // The file's first page may start with a file header (SQLite's 100 bytes): its page part comes after.
    const std::uint64_t shift = page == plan.first_page ? plan.first_page_shift : 0;
    const std::uint64_t from = std::min(plan.from + shift, plan.page_size - plan.bytes);
    const std::uint64_t end = std::max(std::min(to + shift, plan.page_size), from + plan.bytes);
    f.offset = (page - plan.first_page) * plan.page_size + from + below(random, end - from - plan.bytes + 1);
    f.original.assign(plan.bytes, 0);
    flips.push_back(std::move(f));
  }
  return flips;
}

void flip_bytes(std::vector<PageFlip>& flips, std::uint64_t seed) {
  std::mt19937_64 random(seed ^ 0x9e3779b97f4a7c15ULL);  // not the stream that drew the pages
  for (auto& f : flips) {
    f.corrupted.resize(f.original.size());
    for (std::size_t i = 0; i < f.original.size(); ++i) {
      unsigned char mask = 0;
      // Non-zero, and not the byte itself: the byte changes and does not become 0.
      while (mask == 0 || mask == f.original[i]) mask = static_cast<unsigned char>(1 + below(random, 255));
      f.corrupted[i] = static_cast<unsigned char>(f.original[i] ^ mask);
    }
  }
}

Result<std::string> file_sha256(const std::string& path, std::span<const PageFlip> patches, bool as_corrupted) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return io_error("cannot open " + path);
  Sha256 sha;
  std::vector<unsigned char> buffer(kChunk);
  for (std::uint64_t at = 0;; ) {
    auto n = pread_full(fd.get(), buffer.data(), buffer.size(), at);
    if (!n) return Error{path + ": " + n.error(), ErrorCode::io_error};
    if (*n == 0) break;
    for (const auto& p : patches) {
      const auto& bytes = as_corrupted ? p.corrupted : p.original;
      for (std::size_t i = 0; i < bytes.size(); ++i) {
        const std::uint64_t pos = p.offset + i;
        if (pos >= at && pos < at + *n) buffer[pos - at] = bytes[i];
      }
    }
    sha.add(buffer.data(), *n);
    at += *n;
  }
  return sha.hex();
}

Result<std::string> copy_exactly(const std::string& from, const std::string& to) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.ok()) return io_error("cannot open " + from);
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.ok()) return io_error("cannot create the copy " + to);
  if (::fchmod(out.get(), 0600) != 0) return io_error("chmod 0600 " + to);
  Sha256 sha;
  std::vector<unsigned char> buffer(kChunk);
  for (std::uint64_t at = 0;;) {
    auto n = pread_full(in.get(), buffer.data(), buffer.size(), at);
    if (!n) return Error{from + ": " + n.error(), ErrorCode::io_error};
    if (*n == 0) break;
    if (auto s = pwrite_full(out.get(), buffer.data(), *n, at); !s) return Error{to + ": " + s.error(), ErrorCode::io_error};
    sha.add(buffer.data(), *n);
    at += *n;
  }
  if (::fsync(out.get()) != 0) return io_error("fsync " + to);
  // The folder too, so the copy's name survives a crash along with its bytes.
  Fd dir(::open(std::filesystem::path(to).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.ok()) (void)::fsync(dir.get());
  return sha.hex();
}

Result<std::vector<unsigned char>> read_at(const std::string& path, std::uint64_t offset, std::uint64_t count) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return io_error("cannot open " + path);
  std::vector<unsigned char> bytes(count);
  auto n = pread_full(fd.get(), bytes.data(), bytes.size(), offset);
  if (!n) return Error{path + ": " + n.error(), ErrorCode::io_error};
  bytes.resize(*n);
  return bytes;
}

Status write_runs(const std::string& path, std::span<const PageFlip> runs, bool corrupted) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.ok()) return io_error("cannot open " + path + " for writing");
  for (const auto& r : runs) {
    const auto& bytes = corrupted ? r.corrupted : r.original;
    if (auto s = pwrite_full(fd.get(), bytes.data(), bytes.size(), r.offset); !s) {
      return Error{path + " at offset " + std::to_string(r.offset) + ": " + s.error(), ErrorCode::io_error};
    }
  }
  if (::fsync(fd.get()) != 0) return io_error("fsync " + path);
  return ok_status();
}

std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += {kDigits[b >> 4], kDigits[b & 15]};
  return out;
}

Result<std::vector<unsigned char>> from_hex(std::string_view hex) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return Error{"odd-length hex text", ErrorCode::invalid_argument};
  std::vector<unsigned char> out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = value(hex[i]), lo = value(hex[i + 1]);
    if (hi < 0 || lo < 0) return Error{"not hex: " + std::string(hex.substr(i, 2)), ErrorCode::invalid_argument};
    out.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  return out;
}

}  // namespace chaosplus::faults
