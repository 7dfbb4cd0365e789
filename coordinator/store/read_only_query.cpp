#include "coordinator/store/read_only_query.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>

#include <fmt/core.h>

#include "common/util/errors.h"
#include "coordinator/store/sqlite.h"

namespace tailsweep::store {
namespace {

// Pragmas that only report. With an argument, only those whose argument names
// a table or an index are allowed: "PRAGMA x = v" and "PRAGMA x(v)" set x.
// The table-valued forms (SELECT * FROM pragma_table_info('jobs')) stay
// refused: SQLite authorises a schema write while it sets them up.
constexpr std::array kReportingPragmas = {
    "application_id", "collation_list", "compile_options", "data_version",  "database_list",
    "encoding",       "foreign_keys",   "freelist_count",  "function_list", "journal_mode",
    "module_list",    "page_count",     "page_size",       "pragma_list",   "schema_version",
    "table_list",     "user_version"};
constexpr std::array kNamePragmas = {"table_info", "table_xinfo", "index_list",
                                     "index_info", "index_xinfo", "foreign_key_list"};
// Functions that reach outside the database, even if compiled in.
constexpr std::array kRefusedFunctions = {"load_extension", "fts3_tokenizer", "readfile",
                                          "writefile", "edit"};

template <std::size_t N>
bool contains(const std::array<const char*, N>& names, const char* name) {
  if (name == nullptr) return false;
  return std::any_of(names.begin(), names.end(), [name](const char* candidate) {
    return sqlite3_stricmp(candidate, name) == 0;
  });
}

struct AuthorizerState {
  std::string refusal;  // why the last refused action was refused
};

int authorize(void* user_data, int action, const char* first, const char* second,
              const char* /*database*/, const char* /*trigger_or_view*/) {
  auto& state = *static_cast<AuthorizerState*>(user_data);
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      // For SQLITE_FUNCTION the function's name is the second argument.
      if (contains(kRefusedFunctions, second)) {
        state.refusal = fmt::format("function {}() is not allowed", second);
        return SQLITE_DENY;
      }
      return SQLITE_OK;
    case SQLITE_PRAGMA:
      if (second == nullptr ? contains(kReportingPragmas, first) || contains(kNamePragmas, first)
                            : contains(kNamePragmas, first)) {
        return SQLITE_OK;
      }
      state.refusal = second == nullptr
                          ? fmt::format("PRAGMA {} is not allowed", first)
                          : fmt::format("PRAGMA {} with an argument is not allowed", first);
      return SQLITE_DENY;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      state.refusal = "ATTACH and DETACH are not allowed";
      return SQLITE_DENY;
    default:
      state.refusal = "only reading (SELECT) is allowed";
      return SQLITE_DENY;
  }
}

struct ProgressState {
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;
};

int check_deadline(void* user_data) {
  auto& state = *static_cast<ProgressState*>(user_data);
  if (std::chrono::steady_clock::now() < state.deadline) return 0;
  state.timed_out = true;
  return 1;  // non-zero interrupts the statement
}

// How many virtual-machine steps between clock reads: small enough to stop
// within a millisecond or so, large enough that the clock costs nothing.
constexpr int kProgressInstructions = 10000;

void lock_down(sqlite3* db, AuthorizerState& authorizer, ProgressState& progress,
               const QueryLimits& limits) {
  check_sqlite(db, sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr),
               "disabling extensions");
  check_sqlite(db, sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr),
               "enabling defensive mode");
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  // No value larger than the whole answer may be built at all (a BLOB's hex
  // is twice its size; the count below catches that).
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH,
                static_cast<int>(std::min<std::size_t>(limits.max_bytes, INT32_MAX)));
  check_sqlite(db, sqlite3_set_authorizer(db, authorize, &authorizer), "setting the authorizer");
  sqlite3_progress_handler(db, kProgressInstructions, check_deadline, &progress);
}

std::string blob_hex(const Statement& statement, int column) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto* bytes =
      static_cast<const unsigned char*>(sqlite3_column_blob(statement.handle(), column));
  const int count = sqlite3_column_bytes(statement.handle(), column);
  std::string hex;
  for (int i = 0; i < count; ++i) {
    hex += kDigits[bytes[i] >> 4];
    hex += kDigits[bytes[i] & 0x0f];
  }
  return hex;
}

// The bytes a cell adds to the answer's JSON text, close enough to bound
// memory: a number's longest text, a string's bytes and quotes (escapes may
// add a little), and a BLOB's hex, before anything is built.
std::size_t answer_bytes(const Statement& statement, int column) {
  constexpr std::size_t kNumberBytes = 24, kSeparatorBytes = 1, kQuoteBytes = 2;
  switch (statement.column_type(column)) {
    case ColumnType::integer:
    case ColumnType::real:
      return kNumberBytes + kSeparatorBytes;
    case ColumnType::text:
      return static_cast<std::size_t>(sqlite3_column_bytes(statement.handle(), column)) +
             kQuoteBytes + kSeparatorBytes;
    case ColumnType::blob:
      return 2 * static_cast<std::size_t>(sqlite3_column_bytes(statement.handle(), column)) +
             kQuoteBytes + kSeparatorBytes;
    case ColumnType::null:
      break;
  }
  return 4 + kSeparatorBytes;
}

nlohmann::json cell(const Statement& statement, int column) {
  switch (statement.column_type(column)) {
    case ColumnType::integer:
      return statement.column_int64(column);
    case ColumnType::real:
      return statement.column_double(column);
    case ColumnType::text:
      return statement.column_text(column);
    case ColumnType::blob:
      return blob_hex(statement, column);
    case ColumnType::null:
      break;
  }
  return nullptr;
}

}  // namespace

QueryResult run_read_only_query(const std::string& database_path, std::string_view sql,
                                const QueryLimits& limits) {
  if (limits.max_rows < 1) throw InputError("the row limit must be at least 1");
  if (limits.timeout.count() < 1) throw InputError("the time limit must be at least 1 ms");
  if (limits.max_bytes < 1) throw InputError("the byte limit must be at least 1");
  Database db(database_path, OpenOptions{.read_only = true, .create = false});
  AuthorizerState authorizer;
  ProgressState progress{std::chrono::steady_clock::now() + limits.timeout};
  lock_down(db.handle(), authorizer, progress, limits);

  const auto refuse = [&](const SqliteError& error) -> InputError {
    if (progress.timed_out) {
      return InputError(fmt::format("the query ran past its time limit of {} ms and was stopped",
                                    limits.timeout.count()));
    }
    // The connection runs one statement, so any refusal recorded is this
    // statement's (SQLite may report it as SQLITE_AUTH or, from inside a
    // virtual table, as a plain error).
    if (!authorizer.refusal.empty()) {
      return InputError(
          fmt::format("{} (this connection is read-only): {}", authorizer.refusal, error.what()));
    }
    return InputError(error.what());
  };

  QueryResult result;
  try {
    Statement statement = db.prepare(sql);
    if (!statement.is_read_only()) {
      throw InputError("only statements that read are allowed");
    }
    std::size_t answer_size = 0;
    for (int column = 0; column < statement.column_count(); ++column) {
      result.columns.push_back(statement.column_name(column));
      answer_size += result.columns.back().size() + 3;
    }
    const auto truncate = [&result](const char* limit) {
      result.truncated = true;
      result.truncated_by = limit;
    };
    while (statement.step()) {
      if (static_cast<int64_t>(result.rows.size()) == limits.max_rows) {
        truncate("max_rows");
        break;
      }
      std::size_t row_size = 2;
      for (int column = 0; column < statement.column_count(); ++column) {
        row_size += answer_bytes(statement, column);
      }
      if (answer_size + row_size > limits.max_bytes) {
        truncate("max_bytes");
        break;
      }
      answer_size += row_size;
      std::vector<nlohmann::json> row;
      row.reserve(result.columns.size());
      for (int column = 0; column < statement.column_count(); ++column) {
        row.push_back(cell(statement, column));
      }
      result.rows.push_back(std::move(row));
    }
  } catch (const SqliteError& error) {
    throw refuse(error);
  }
  return result;
}

}  // namespace tailsweep::store
