#pragma once
// Arbitrary SQL for users, safely: `tailsweep sql` and the /v1/sql route run
// user text through run_read_only_query, which can only read. Three layers
// guard that: the connection is opened read-only, an authorizer refuses every
// action but reading (no writes, ATTACH, PRAGMA assignments, extensions), and
// the statement must be read-only by SQLite's own account. A time limit, a
// row limit and a byte limit keep one query from holding the coordinator or
// its memory: `SELECT randomblob(1e9)` once took 21 s and 6 GB.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tailsweep::store {

// 64 MiB: the answer of one query, as the JSON text it becomes.
inline constexpr std::size_t kDefaultMaxAnswerBytes = std::size_t{64} << 20;

struct QueryLimits {
  int64_t max_rows = 10000;  // rows beyond this are dropped and the result flagged truncated
  // Rows past this many bytes of answer (counted as their JSON text, a
  // BLOB as its hex) are dropped and the result flagged truncated. A single
  // value longer than this fails the query ("string or blob too big").
  std::size_t max_bytes = kDefaultMaxAnswerBytes;
  // Covers running the statement and building the rows: the progress
  // handler runs inside every step, so time spent here between steps is
  // seen at the next one. Serialising the answer afterwards is bounded by
  // max_bytes instead.
  std::chrono::milliseconds timeout{10000};
};

struct QueryResult {
  std::vector<std::string> columns;
  // One JSON value per cell: integer, number, string, null; a BLOB becomes
  // its lower-case hex as a string.
  std::vector<std::vector<nlohmann::json>> rows;
  bool truncated = false;
  std::string truncated_by;  // "max_rows" or "max_bytes" when truncated
};

// Runs exactly one statement (a trailing semicolon is fine, a second
// statement is not) against the database file. Every refusal, SQL error and
// limit is an InputError carrying SQLite's message.
QueryResult run_read_only_query(const std::string& database_path, std::string_view sql,
                                const QueryLimits& limits = {});

}  // namespace tailsweep::store
