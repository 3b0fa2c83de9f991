#include "faults/page_formats.h"

#include <sys/stat.h>

#include <cstring>

#include "faults/file_pages.h"

namespace chaosplus::faults {

Result<PageFormat> page_format(std::string_view name) {
  if (name == "raw") return PageFormat::raw;
  if (name == "postgres") return PageFormat::postgres;
  if (name == "sqlite") return PageFormat::sqlite;
  return Error{"'" + std::string(name) + "' is not a page format (raw, postgres, sqlite)", ErrorCode::invalid_argument};
}

std::string_view format_name(PageFormat format) {
  switch (format) {
    case PageFormat::raw: return "raw";
    case PageFormat::postgres: return "postgres";
    case PageFormat::sqlite: return "sqlite";
  }
  return "?";
}

Result<PageLayout> page_layout(PageFormat format, const std::string& path, std::uint64_t page_size) {
  PageLayout layout;
  if (format == PageFormat::raw) {
    layout.page_size = page_size == 0 ? 4096 : page_size;
    return layout;
  }
  if (format == PageFormat::postgres) {
    layout.page_size = page_size == 0 ? 8192 : page_size;
    layout.header = kPostgresPageHeader;
    return layout;
  }
  auto head = read_at(path, 0, kSqliteFileHeader);
  if (!head) return Error{head.failure()};
  static constexpr char kMagic[] = "SQLite format 3";  // and its NUL: 16 bytes
  if (head->size() < kSqliteFileHeader || std::memcmp(head->data(), kMagic, sizeof kMagic) != 0) {
    return Error{path + " is not an SQLite database (its first 16 bytes are not \"SQLite format 3\\0\")",
                 ErrorCode::invalid_argument};
  }
  // Big-endian at offset 16; 1 stands for 65536.
  const std::uint64_t size = (std::uint64_t{(*head)[16]} << 8) | (*head)[17];
  layout.page_size = size == 1 ? 65536 : size;
  if (layout.page_size < 512 || (layout.page_size & (layout.page_size - 1)) != 0) {
    return Error{path + ": its header says the page size is " + std::to_string(size) + ", not a power of two from 512",
                 ErrorCode::invalid_argument};
  }
  if (page_size != 0 && page_size != layout.page_size) {
    return Error{path + " has pages of " + std::to_string(layout.page_size) + " bytes (its header), not " +
                     std::to_string(page_size),
                 ErrorCode::invalid_argument};
  }
  layout.first_page = 1;
  layout.header = kSqliteBtreeHeader;
  layout.first_page_shift = kSqliteFileHeader;
  layout.never = {1};
  // In WAL mode, pages newer than the file's live in the -wal file, and readers take them from
  // there: damage to the file's copy of such a page stays hidden until a checkpoint overwrites it.
  struct stat wal {};
  if (::stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0) {
    layout.note = path + "-wal holds " + std::to_string(wal.st_size) +
                  " bytes of pages newer than the file: damage to those pages stays hidden until a checkpoint "
                  "(PRAGMA wal_checkpoint(TRUNCATE)) before the fault";
  }
  return layout;
}

}  // namespace chaosplus::faults
