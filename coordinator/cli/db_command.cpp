// tailsweep db migrate: creates the results database or brings its schema up
// to this binary's version.
#include <memory>
#include <string>

#include <fmt/core.h>

#include "coordinator/cli/commands.h"
#include "coordinator/store/store.h"

namespace tailsweep::cli {
namespace {

struct DbMigrateOptions {
  std::string database_path;
};

void run_db_migrate(const DbMigrateOptions& options) {
  const store::MigrationReport report = store::Store::migrate(options.database_path);
  if (report.from_version == report.to_version) {
    fmt::print("{}: schema version {}, up to date\n", options.database_path, report.to_version);
  } else {
    fmt::print("{}: schema version {} -> {}\n", options.database_path, report.from_version,
               report.to_version);
  }
}

}  // namespace

void register_db_command(CLI::App& app) {
  CLI::App* db = app.add_subcommand("db", "Manage the results database");
  db->footer("Example:\n  tailsweep db migrate --db results.db");
  db->require_subcommand(1);
  auto options = std::make_shared<DbMigrateOptions>();
  CLI::App* migrate =
      db->add_subcommand("migrate", "Create the database, or apply the schema migrations it lacks");
  migrate->footer("Example:\n  tailsweep db migrate --db results.db");
  migrate->add_option("--db", options->database_path, "the SQLite database file")->required();
  migrate->callback([options] { run_db_migrate(*options); });
}

}  // namespace tailsweep::cli
