// tailsweep db migrate: creates the results database or brings its schema up
// to this binary's version. tailsweep db backup: an online, checked copy.
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/core.h>

#include "coordinator/cli/commands.h"
#include "coordinator/store/backup.h"
#include "coordinator/store/migrations.h"
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
  print_step_backfill(report.step_backfill, stdout);
}

struct DbBackupOptions {
  std::string database_path;
  std::string destination_path;
};

void run_db_backup(const DbBackupOptions& options) {
  store::Database source(options.database_path, store::OpenOptions{.read_only = true});
  store::require_tailsweep_database(source);
  const store::BackupReport report = store::backup_database(source, options.destination_path);
  fmt::print("{}: {} pages ({:.1f} MB), schema version {}, integrity {}\n",
             options.destination_path, report.pages, static_cast<double>(report.bytes) / 1e6,
             report.schema_version, report.integrity);
}

}  // namespace

// Migration 010 finds the steps of profiles stored before it (step_view).
void print_step_backfill(const store::StepBackfill& backfill, std::FILE* out) {
  if (backfill.profiles > 0) {
    fmt::print(out,
               "found the steps of {} profiles stored before schema 10: {} steps in step_view\n",
               backfill.profiles, backfill.steps);
  }
  if (backfill.unreadable > 0) {
    fmt::print(stderr,
               "warning: {} stored profiles could not be read again and have no rows in "
               "step_view (the report still finds their steps); the first: {}\n",
               backfill.unreadable, backfill.first_error);
  }
}

void register_db_command(CLI::App& app) {
  CLI::App* db = app.add_subcommand("db", "Manage the results database");
  db->footer(
      "Examples:\n  tailsweep db migrate --db results.db\n  tailsweep db backup --db results.db "
      "--to copy.db");
  db->require_subcommand(1);
  auto options = std::make_shared<DbMigrateOptions>();
  CLI::App* migrate =
      db->add_subcommand("migrate", "Create the database, or apply the schema migrations it lacks");
  migrate->footer("Example:\n  tailsweep db migrate --db results.db");
  migrate->add_option("--db", options->database_path, "the SQLite database file")->required();
  migrate->callback([options] { run_db_migrate(*options); });

  auto backup_options = std::make_shared<DbBackupOptions>();
  CLI::App* backup = db->add_subcommand(
      "backup",
      "Copy the database while the coordinator keeps writing (SQLite's online backup: every "
      "page as of one moment), check the copy (PRAGMA integrity_check) and only then put it in "
      "place");
  backup->footer("Example:\n  tailsweep db backup --db results.db --to backups/results-monday.db");
  backup->add_option("--db", backup_options->database_path, "the SQLite database file")
      ->required()
      ->check(CLI::ExistingFile);
  backup->add_option("--to", backup_options->destination_path,
                     "the copy (replaced only by a whole, checked copy)")
      ->required();
  backup->callback([backup_options] { run_db_backup(*backup_options); });
}

}  // namespace tailsweep::cli
