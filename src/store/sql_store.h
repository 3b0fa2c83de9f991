#pragma once
// The Store over one SqlConnection: the same statements for SQLite and PostgreSQL. Calls are
// serialized by a mutex, so one Store may be shared by threads (a run's writer, the server).
#include <memory>

#include "store/sql_connection.h"
#include "store/store.h"

namespace chaosplus::store {

// Migrates the schema to schema_version() first; refuses a store of a newer version.
Result<std::unique_ptr<Store>> open_sql_store(std::unique_ptr<SqlConnection> connection);

}  // namespace chaosplus::store
