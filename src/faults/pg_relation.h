#pragma once
// What the corruption fault asks a PostgreSQL server (through db/pg_client.h, loopback only): the
// file that holds a table's first segment, and a CHECKPOINT so that file has the latest version of
// every page before it is copied and flipped.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::faults {

struct RelationFile {
  std::string path;  // <data_directory>/<pg_relation_filepath(table)>: the first 1 GiB segment
  std::uint64_t block_size = 8192;
};

// Finds `table` (a name as SQL reads it: accounts, public.accounts, "Mixed Case") on the server
// `dsn` names. Errors say which server and what it answered (no such table, no storage: a view).
Result<RelationFile> relation_file(std::string_view dsn, std::string_view table, Duration timeout);

// CHECKPOINT: every dirty page is written to its file. Needs a superuser or pg_checkpoint.
Status checkpoint(std::string_view dsn, Duration timeout);

// Whether every host `dsn` names is loopback; the error says which is not.
Status check_dsn(std::string_view dsn);

}  // namespace chaosplus::faults
