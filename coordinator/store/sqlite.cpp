#include "coordinator/store/sqlite.h"

#include <sqlite3.h>

#include <filesystem>
#include <utility>

#include <fmt/core.h>

#include "common/util/errors.h"

namespace tailsweep::store {
namespace {

std::string error_message(sqlite3* db, int result) {
  // sqlite3_errmsg describes the connection's last error, which is the one
  // just returned; without a connection only the code's text is known.
  return db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(result);
}

// True when the text after the first statement holds no other statement:
// only whitespace, comments and semicolons (SQLite prepares those to nothing).
bool only_empty_statements(sqlite3* db, const char* tail, const char* end) {
  while (tail < end) {
    sqlite3_stmt* next = nullptr;
    const char* next_tail = nullptr;
    const int result =
        sqlite3_prepare_v2(db, tail, static_cast<int>(end - tail), &next, &next_tail);
    if (next != nullptr) {
      sqlite3_finalize(next);
      return false;
    }
    if (result != SQLITE_OK || next_tail == tail) return false;
    tail = next_tail;
  }
  return true;
}

}  // namespace

SqliteError::SqliteError(int code, const std::string& message)
    : std::runtime_error(message), code_(code) {}

bool SqliteError::busy() const {
  const int primary = code_ & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

bool SqliteError::storage_unavailable() const {
  switch (code_ & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

bool SqliteError::disk_full() const { return (code_ & 0xff) == SQLITE_FULL; }

void check_sqlite(sqlite3* db, int result, std::string_view doing) {
  if (result == SQLITE_OK || result == SQLITE_ROW || result == SQLITE_DONE) return;
  throw SqliteError(result, fmt::format("{}: {}", doing, error_message(db, result)));
}

// ---- Statement ----

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  const char* tail = nullptr;
  const int result =
      sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &statement_, &tail);
  if (result != SQLITE_OK) {
    throw SqliteError(result, error_message(db, result));
  }
  if (statement_ == nullptr) {
    throw SqliteError(SQLITE_MISUSE, "no SQL statement (the text is empty or only comments)");
  }
  if (!only_empty_statements(db, tail, sql.data() + sql.size())) {
    sqlite3_finalize(std::exchange(statement_, nullptr));
    throw SqliteError(SQLITE_MISUSE,
                      "only one SQL statement is allowed (text follows the first statement)");
  }
}

Statement::~Statement() { sqlite3_finalize(statement_); }

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), statement_(std::exchange(other.statement_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(statement_);
    db_ = other.db_;
    statement_ = std::exchange(other.statement_, nullptr);
  }
  return *this;
}

void Statement::check_bind(int result, int index) {
  if (result != SQLITE_OK) {
    throw SqliteError(result, fmt::format("binding parameter {} of '{}': {}", index,
                                          sqlite3_sql(statement_), error_message(db_, result)));
  }
}

Statement& Statement::bind_int64(int index, int64_t value) {
  check_bind(sqlite3_bind_int64(statement_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(statement_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies the text, so the caller's buffer may go.
  check_bind(sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8),
             index);
  return *this;
}

Statement& Statement::bind(int index, std::nullptr_t) {
  check_bind(sqlite3_bind_null(statement_, index), index);
  return *this;
}

int Statement::parameter_index(std::string_view name) const {
  const int index = sqlite3_bind_parameter_index(statement_, std::string(name).c_str());
  if (index == 0) {
    throw SqliteError(SQLITE_RANGE, fmt::format("no parameter named '{}' in '{}'", name,
                                                sqlite3_sql(statement_)));
  }
  return index;
}

bool Statement::step() {
  const int result = sqlite3_step(statement_);
  if (result == SQLITE_ROW) return true;
  if (result == SQLITE_DONE) return false;
  throw SqliteError(result, error_message(db_, result));
}

void Statement::execute() {
  if (step()) {
    throw SqliteError(SQLITE_MISUSE, fmt::format("'{}' returned a row where none was expected",
                                                 sqlite3_sql(statement_)));
  }
}

void Statement::check_column(int index) const {
  if (index < 0 || index >= sqlite3_column_count(statement_)) {
    throw SqliteError(SQLITE_RANGE,
                      fmt::format("no column {} in '{}'", index, sqlite3_sql(statement_)));
  }
}

int Statement::column_count() const { return sqlite3_column_count(statement_); }

std::string Statement::column_name(int index) const {
  check_column(index);
  const char* name = sqlite3_column_name(statement_, index);
  return name != nullptr ? name : "";
}

ColumnType Statement::column_type(int index) const {
  check_column(index);
  switch (sqlite3_column_type(statement_, index)) {
    case SQLITE_INTEGER:
      return ColumnType::integer;
    case SQLITE_FLOAT:
      return ColumnType::real;
    case SQLITE_TEXT:
      return ColumnType::text;
    case SQLITE_BLOB:
      return ColumnType::blob;
    default:
      return ColumnType::null;
  }
}

bool Statement::column_is_null(int index) const { return column_type(index) == ColumnType::null; }

int64_t Statement::column_int64(int index) const {
  check_column(index);
  return sqlite3_column_int64(statement_, index);
}

double Statement::column_double(int index) const {
  check_column(index);
  return sqlite3_column_double(statement_, index);
}

std::string Statement::column_text(int index) const {
  check_column(index);
  const auto* text = sqlite3_column_text(statement_, index);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(statement_, index)));
}

std::optional<int64_t> Statement::column_optional_int64(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_int64(index);
}

std::optional<double> Statement::column_optional_double(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_double(index);
}

std::optional<std::string> Statement::column_optional_text(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_text(index);
}

void Statement::reset() { sqlite3_reset(statement_); }

void Statement::clear_bindings() { sqlite3_clear_bindings(statement_); }

bool Statement::is_read_only() const { return sqlite3_stmt_readonly(statement_) != 0; }

std::string Statement::sql() const { return sqlite3_sql(statement_); }

// ---- CachedStatement ----

CachedStatement::CachedStatement(Statement& statement, bool& in_use)
    : statement_(&statement), in_use_(&in_use) {
  *in_use_ = true;
}

CachedStatement::~CachedStatement() {
  statement_->reset();
  statement_->clear_bindings();
  *in_use_ = false;
}

// ---- Database ----

Database::Database(const std::string& path, const OpenOptions& options) : path_(path) {
  // SQLite would open a device or a FIFO and then create its journal and
  // WAL beside it (/dev/null-journal): a database is a regular file.
  std::error_code status_error;
  const auto status = std::filesystem::status(path, status_error);
  if (!status_error && std::filesystem::exists(status) &&
      !std::filesystem::is_regular_file(status)) {
    throw InputError(fmt::format("cannot open database '{}': not a regular file", path));
  }
  int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
  // One connection per thread (see the header), so SQLite's own mutexes on
  // the connection are not needed.
  flags |= SQLITE_OPEN_NOMUTEX;
  const int result = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (result != SQLITE_OK) {
    const std::string message = error_message(db_, result);
    close();
    throw InputError(fmt::format("cannot open database '{}': {}", path, message));
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  try {
    execute_script("PRAGMA foreign_keys = ON");
    if (!options.read_only) {
      execute_script("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
      // Reads through a memory map instead of read() calls: the coordinator
      // reads the same hot pages (jobs, indexes) on every lease.
      execute_script("PRAGMA mmap_size = 268435456");
    }
  } catch (const SqliteError& error) {
    close();
    // A file that is not a database fails here, at its first read.
    throw InputError(fmt::format("cannot open database '{}': {}", path, error.what()));
  }
}

Database::~Database() { close(); }

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      statement_cache_(std::move(other.statement_cache_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    statement_cache_ = std::move(other.statement_cache_);
  }
  return *this;
}

void Database::close() noexcept {
  // Statements must be finalised before the connection closes.
  statement_cache_.clear();
  if (db_ != nullptr) sqlite3_close_v2(std::exchange(db_, nullptr));
}

void Database::execute_script(std::string_view sql) {
  char* message = nullptr;
  const int result = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &message);
  if (result != SQLITE_OK) {
    const std::string text = message != nullptr ? message : sqlite3_errstr(result);
    sqlite3_free(message);
    throw SqliteError(result, text);
  }
}

Statement Database::prepare(std::string_view sql) { return Statement(db_, sql); }

CachedStatement Database::cached(std::string_view sql) {
  auto found = statement_cache_.find(std::string(sql));
  if (found == statement_cache_.end()) {
    auto entry = std::make_unique<CacheEntry>(CacheEntry{Statement(db_, sql), false});
    found = statement_cache_.emplace(std::string(sql), std::move(entry)).first;
  }
  if (found->second->in_use) {
    throw std::logic_error(fmt::format("cached statement used twice at once: {}", sql));
  }
  return CachedStatement(found->second->statement, found->second->in_use);
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int Database::changes() const { return sqlite3_changes(db_); }

int64_t Database::total_changes() const { return sqlite3_total_changes64(db_); }

int Database::user_version() {
  Statement statement(db_, "PRAGMA user_version");
  statement.step();
  return static_cast<int>(statement.column_int64(0));
}

// ---- Transaction ----

bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Transaction::Transaction(Database& db) : db_(db) {
  if (db_.in_transaction()) {
    savepoint_ = db_.next_savepoint_name();
    db_.execute_script("SAVEPOINT " + savepoint_);
  } else {
    db_.execute_script("BEGIN IMMEDIATE");
  }
}

Transaction::~Transaction() {
  if (finished_) return;
  try {
    db_.execute_script(savepoint_.empty()
                           ? std::string("ROLLBACK")
                           : fmt::format("ROLLBACK TO {0}; RELEASE {0}", savepoint_));
  } catch (const SqliteError&) {
    // SQLite may already have rolled back (some errors end the transaction
    // themselves); there is nothing left to undo and a destructor cannot throw.
  }
}

void Transaction::commit() {
  db_.execute_script(savepoint_.empty() ? std::string("COMMIT") : "RELEASE " + savepoint_);
  finished_ = true;
}

}  // namespace tailsweep::store
