// tailsweep sql: one read-only SQL query against the results database,
// printed as a table, CSV or JSON.
#include <chrono>
#include <memory>
#include <string>

#include <fmt/core.h>

#include "common/util/errors.h"
#include "coordinator/cli/admin_client.h"
#include "coordinator/cli/commands.h"
#include "coordinator/store/query_format.h"
#include "coordinator/store/read_only_query.h"

namespace tailsweep::cli {
namespace {

struct SqlOptions {
  std::string query;
  std::string database_path;
  AdminConnection coordinator;
  std::string format = "table";
  int64_t max_rows = 10000;
  int64_t timeout_ms = 10000;
};

// Where the query runs: a local database file, or a coordinator's /v1/sql
// (which applies the same read-only rules, and its own limits on top).
store::QueryResult run_query(const SqlOptions& options, const store::QueryLimits& limits) {
  if (options.database_path.empty() == options.coordinator.url.empty()) {
    throw InputError("say which database to query: --db FILE or --coordinator URL");
  }
  if (!options.database_path.empty()) {
    return store::run_read_only_query(options.database_path, options.query, limits);
  }
  const nlohmann::json answer = admin_call(options.coordinator, "POST", "/v1/sql",
                                           {{"sql", options.query},
                                            {"max_rows", limits.max_rows},
                                            {"timeout_ms", limits.timeout.count()}});
  store::QueryResult result;
  result.columns = answer.at("columns").get<std::vector<std::string>>();
  result.rows = answer.at("rows").get<std::vector<std::vector<nlohmann::json>>>();
  result.truncated = answer.at("truncated").get<bool>();
  // Coordinators before the byte limit do not send it.
  if (answer.contains("truncated_by") && answer.at("truncated_by").is_string()) {
    result.truncated_by = answer.at("truncated_by").get<std::string>();
  }
  return result;
}

void run_sql(const SqlOptions& options) {
  const store::QueryFormat format = store::parse_query_format(options.format);
  const store::QueryLimits limits{.max_rows = options.max_rows,
                                  .timeout = std::chrono::milliseconds(options.timeout_ms)};
  const store::QueryResult result = run_query(options, limits);
  fmt::print("{}", store::render(result, format));
  if (result.truncated && format == store::QueryFormat::csv) {
    // The table and JSON forms say so themselves; CSV has no place for it.
    fmt::print(stderr, "tailsweep: note: output truncated ({})\n", store::truncation_note(result));
  }
}

}  // namespace

void register_sql_command(CLI::App& app) {
  auto options = std::make_shared<SqlOptions>();
  CLI::App* command = app.add_subcommand(
      "sql", "Run one read-only SQL query on the results database (see docs/schema.md)");
  command->footer(
      "Example:\n  tailsweep sql \"SELECT device, tokens, median_ms FROM curve_view LIMIT 5\" --db "
      "results.db");
  command->add_option("query", options->query, "one SELECT statement (or a reporting PRAGMA)")
      ->required();
  command->add_option("--db", options->database_path, "the SQLite database file");
  add_admin_connection_options(command, options->coordinator, /*coordinator_required=*/false);
  command->add_option("--format", options->format, "table, csv or json")->capture_default_str();
  command->add_option("--max-rows", options->max_rows, "stop after this many rows (flagged)")
      ->capture_default_str();
  command->add_option("--timeout-ms", options->timeout_ms, "stop the query after this long")
      ->capture_default_str();
  command->callback([options] { run_sql(*options); });
}

}  // namespace tailsweep::cli
