#pragma once
// A thin RAII layer over SQLite's C API, in the spirit of SQLiteCpp: a
// Database owns one connection, a Statement one prepared statement, a
// Transaction one BEGIN IMMEDIATE ... COMMIT that rolls back unless committed.
// Nothing here knows the schema; store.h does.
//
// A Database is one connection and is not thread-safe: give each thread its
// own. Across connections, WAL mode and busy_timeout serialise the writers.
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace tailsweep::store {

// An error SQLite reported, with its (extended) result code and message.
class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message);
  int code() const { return code_; }
  // SQLITE_BUSY or SQLITE_LOCKED: another connection holds the database, so
  // the same work may succeed later.
  bool busy() const;
  // The database cannot take this write now for a reason outside the
  // statement (busy, a full disk, an I/O error, read-only, out of memory):
  // the same work may succeed later.
  bool storage_unavailable() const;
  bool disk_full() const;

 private:
  int code_;
};

enum class ColumnType { integer, real, text, blob, null };

class Statement {
 public:
  // Prepares exactly one statement; trailing text other than whitespace,
  // comments and semicolons is refused (SQLite would silently ignore it).
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding: 1-based indexes as in SQLite, or names with their prefix
  // (":name"). An empty optional binds NULL.
  template <std::integral T>
  Statement& bind(int index, T value) {
    return bind_int64(index, static_cast<int64_t>(value));
  }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind(int index, std::nullptr_t);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, nullptr);
  }
  template <typename T>
  Statement& bind(std::string_view name, T&& value) {
    return bind(parameter_index(name), std::forward<T>(value));
  }
  int parameter_index(std::string_view name) const;

  // Steps once: true when a row is ready, false when the statement is done.
  bool step();
  // Steps a statement that returns no rows (INSERT, UPDATE, ...).
  void execute();

  int column_count() const;
  std::string column_name(int index) const;
  ColumnType column_type(int index) const;
  bool column_is_null(int index) const;
  int64_t column_int64(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;
  std::optional<int64_t> column_optional_int64(int index) const;
  std::optional<double> column_optional_double(int index) const;
  std::optional<std::string> column_optional_text(int index) const;

  // Makes the statement ready to run again; bindings stay unless cleared.
  void reset();
  void clear_bindings();

  bool is_read_only() const;
  std::string sql() const;
  sqlite3_stmt* handle() const { return statement_; }

 private:
  Statement& bind_int64(int index, int64_t value);
  void check_bind(int result, int index);
  void check_column(int index) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
};

// A statement borrowed from a Database's cache. It is reset and its bindings
// cleared when the handle goes, so an unfinished SELECT never holds a read
// snapshot open (that would stall WAL checkpoints and other writers).
class CachedStatement {
 public:
  CachedStatement(Statement& statement, bool& in_use);
  ~CachedStatement();
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;

  Statement& operator*() const { return *statement_; }
  Statement* operator->() const { return statement_; }

 private:
  Statement* statement_;
  bool* in_use_;
};

struct OpenOptions {
  bool read_only = false;
  bool create = false;         // create the file when it is missing
  int busy_timeout_ms = 5000;  // how long a writer waits for another's lock
};

class Database {
 public:
  // Opens path; a writable connection gets WAL, synchronous=NORMAL (safe in
  // WAL: a power cut may lose the last commits, never corrupt the file) and
  // foreign keys on. Throws InputError when the file cannot be opened.
  Database(const std::string& path, const OpenOptions& options);
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows (schema scripts, PRAGMAs).
  void execute_script(std::string_view sql);
  Statement prepare(std::string_view sql);
  // The prepared statement for this SQL text, prepared on first use and kept
  // for the connection's life: hot statements are compiled once. Using the
  // same SQL text twice at once (nested) is a programming error and throws.
  CachedStatement cached(std::string_view sql);

  int64_t last_insert_rowid() const;
  int changes() const;
  // Rows changed by every statement since the connection opened.
  int64_t total_changes() const;
  int user_version();
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }
  // Inside BEGIN ... COMMIT (not in autocommit mode).
  bool in_transaction() const;
  // A fresh savepoint name for a transaction nested in another.
  std::string next_savepoint_name() { return "nested_" + std::to_string(++savepoints_); }

 private:
  struct CacheEntry {
    Statement statement;
    bool in_use = false;
  };

  void close() noexcept;

  sqlite3* db_ = nullptr;
  std::string path_;
  uint64_t savepoints_ = 0;
  // Owned via unique_ptr so that references stay valid when the map rehashes.
  std::unordered_map<std::string, std::unique_ptr<CacheEntry>> statement_cache_;
};

// BEGIN IMMEDIATE takes the write lock at the start, so two writers never both
// read and then collide on upgrade (the classic SQLITE_BUSY deadlock); the
// second waits for busy_timeout instead. Rolls back unless commit() ran.
class Transaction {
 public:
  // BEGIN IMMEDIATE; or, inside a transaction already open on this
  // connection, a SAVEPOINT: the coordinator's writer runs many operations
  // in one commit (group commit), and each still rolls back alone.
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  Database& db_;
  std::string savepoint_;  // empty: the outermost transaction
  bool finished_ = false;
};

// Throws SqliteError for a result code that is not OK/ROW/DONE.
void check_sqlite(sqlite3* db, int result, std::string_view doing);

}  // namespace tailsweep::store
