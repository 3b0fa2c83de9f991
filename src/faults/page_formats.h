#pragma once
// How a file's format cuts it into pages: PostgreSQL relation files (8 KiB blocks numbered from 0,
// each with a 24-byte page header), SQLite databases (the page size is in the file's header at
// offset 16, pages numbered from 1, page 1 starts with the 100-byte file header and is left alone
// unless named), and raw files (pages of a given size, no header).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace chaosplus::faults {

enum class PageFormat { raw, postgres, sqlite };
Result<PageFormat> page_format(std::string_view name);  // "raw", "postgres", "sqlite"
std::string_view format_name(PageFormat format);

struct PageLayout {
  std::uint64_t page_size = 0;
  std::uint64_t first_page = 0;        // the number of the file's first page
  std::uint64_t header = 0;            // bytes of page header at the start of each page
  std::uint64_t first_page_shift = 0;  // the first page starts with a file header this long
  std::vector<std::uint64_t> never;    // pages not drawn unless named
  std::string note;                    // what may hide the damage (an SQLite write-ahead log), for people
};

inline constexpr std::uint64_t kPostgresPageHeader = 24;  // SizeOfPageHeaderData
inline constexpr std::uint64_t kSqliteFileHeader = 100;
inline constexpr std::uint64_t kSqliteBtreeHeader = 8;  // a leaf page's; an interior page's is 12

// The layout of the file at `path` in `format`; `page_size` as given (0 = the format's default:
// 4096 raw, 8192 PostgreSQL; an SQLite file says its own, and one given must agree).
Result<PageLayout> page_layout(PageFormat format, const std::string& path, std::uint64_t page_size);

}  // namespace chaosplus::faults
