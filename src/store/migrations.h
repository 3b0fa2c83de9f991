#pragma once
// The store's schema, as one list of migrations shared by SQLite and PostgreSQL: migration i
// (1-based) takes a store from version i-1 to i. Each is a list of statements in the SQL both
// understand (TEXT, BIGINT, DOUBLE PRECISION, no AUTOINCREMENT). Never edit a released migration:
// add the next one.
#include <string>
#include <vector>

namespace chaosplus::store {

const std::vector<std::vector<std::string>>& migrations();

}  // namespace chaosplus::store
