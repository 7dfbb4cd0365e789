// tailsweep sql: one read-only SQL query against the results database,
// printed as a table, CSV or JSON.
#include <fmt/core.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/errors.h"
#include "coordinator/commands.h"
#include "coordinator/store/query_format.h"
#include "coordinator/store/read_only_query.h"

namespace tailsweep::cli {
namespace {

struct SqlOptions {
  std::string query;
  std::string database_path;
  std::string format = "table";
  int64_t max_rows = 10000;
  int64_t timeout_ms = 10000;
};

// Where the query runs. Only a local file for now; a coordinator's /v1/sql
// (--coordinator URL --admin-token) is the other source to add here.
store::QueryResult run_query(const SqlOptions& options, const store::QueryLimits& limits) {
  if (options.database_path.empty()) {
    throw InputError("say which database to query: --db FILE");
  }
  return store::run_read_only_query(options.database_path, options.query, limits);
}

void run_sql(const SqlOptions& options) {
  const store::QueryFormat format = store::parse_query_format(options.format);
  const store::QueryLimits limits{options.max_rows, std::chrono::milliseconds(options.timeout_ms)};
  const store::QueryResult result = run_query(options, limits);
  fmt::print("{}", store::render(result, format));
  if (result.truncated && format == store::QueryFormat::csv) {
    // The table and JSON forms say so themselves; CSV has no place for it.
    fmt::print(stderr, "tailsweep: note: output truncated at {} rows (--max-rows)\n",
               options.max_rows);
  }
}

}  // namespace

void register_sql_command(CLI::App& app) {
  auto options = std::make_shared<SqlOptions>();
  CLI::App* command = app.add_subcommand(
      "sql", "Run one read-only SQL query on the results database (see docs/schema.md)");
  command->add_option("query", options->query, "one SELECT statement (or a reporting PRAGMA)")
      ->required();
  command->add_option("--db", options->database_path, "the SQLite database file");
  command->add_option("--format", options->format, "table, csv or json")
      ->capture_default_str();
  command->add_option("--max-rows", options->max_rows, "stop after this many rows (flagged)")
      ->capture_default_str();
  command->add_option("--timeout-ms", options->timeout_ms, "stop the query after this long")
      ->capture_default_str();
  command->callback([options] { run_sql(*options); });
}

}  // namespace tailsweep::cli
