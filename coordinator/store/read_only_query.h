#pragma once
// Arbitrary SQL for users, safely: `tailsweep sql` and the /v1/sql route run
// user text through run_read_only_query, which can only read. Three layers
// guard that: the connection is opened read-only, an authorizer refuses every
// action but reading (no writes, ATTACH, PRAGMA assignments, extensions), and
// the statement must be read-only by SQLite's own account. A time limit and a
// row limit keep one query from holding the coordinator.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tailsweep::store {

struct QueryLimits {
  int64_t max_rows = 10000;  // rows beyond this are dropped and the result flagged truncated
  std::chrono::milliseconds timeout{10000};
};

struct QueryResult {
  std::vector<std::string> columns;
  // One JSON value per cell: integer, number, string, null; a BLOB becomes
  // its lower-case hex as a string.
  std::vector<std::vector<nlohmann::json>> rows;
  bool truncated = false;
};

// Runs exactly one statement (a trailing semicolon is fine, a second
// statement is not) against the database file. Every refusal, SQL error and
// limit is an InputError carrying SQLite's message.
QueryResult run_read_only_query(const std::string& database_path, std::string_view sql,
                                const QueryLimits& limits = {});

}  // namespace tailsweep::store
