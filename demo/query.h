#pragma once
// A toy SQL engine for the demo shop's product table: "SELECT * FROM <table> [WHERE <condition>]"
// with AND, OR, NOT, parentheses, = != <> < <= > >=, LIKE (% and _, ASCII case-insensitive),
// string and number literals, "--" comments and "?" placeholders bound to parameters. Errors read
// like SQLite's ("near \"x\": syntax error", "unrecognized token: \"'abc\"", "no such column: x"),
// so that a query built by concatenating user input fails the way a real one would.
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace chaosplus::demo {

using Value = std::variant<long long, double, std::string>;
using Row = std::map<std::string, Value, std::less<>>;

// The indices of the rows of `table` that match, in order. `params` fill the "?" in order.
Result<std::vector<std::size_t>> run_query(std::string_view sql, const std::vector<Value>& params,
                                           std::string_view table, const std::vector<Row>& rows);

}  // namespace chaosplus::demo
