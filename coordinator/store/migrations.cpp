#include "coordinator/store/migrations.h"

#include <stdexcept>
#include <string>

#include <fmt/core.h>

#include "common/util/errors.h"

namespace tailsweep::store {
namespace {

void check_numbering(std::span<const Migration> migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].number != static_cast<int>(i) + 1) {
      throw std::logic_error(fmt::format(
          "migration {} is numbered {}; migrations must be numbered 1, 2, 3... without gaps",
          migrations[i].name, migrations[i].number));
    }
  }
}

std::string newer_database_message(const Database& db, int database_version, int known_version) {
  return fmt::format(
      "database '{}' has schema version {}, newer than this binary's {}; use a newer tailsweep",
      db.path(), database_version, known_version);
}

}  // namespace

int binary_schema_version() {
  const auto migrations = embedded_migrations();
  return migrations.empty() ? 0 : migrations.back().number;
}

MigrationReport apply_migrations(Database& db, std::span<const Migration> migrations,
                                 const AfterMigration& after) {
  check_numbering(migrations);
  const int known_version = static_cast<int>(migrations.size());
  MigrationReport report;
  report.from_version = db.user_version();
  if (report.from_version > known_version) {
    throw InputError(newer_database_message(db, report.from_version, known_version));
  }
  report.to_version = report.from_version;
  for (const Migration& migration : migrations) {
    if (migration.number <= report.to_version) continue;
    // The version is written inside the same transaction as the schema change
    // (user_version lives in the file header, which the transaction covers),
    // so a crash leaves either both or neither.
    Transaction transaction(db);
    try {
      db.execute_script(migration.sql);
    } catch (const SqliteError& error) {
      throw std::runtime_error(
          fmt::format("migration {} failed: {}", migration.name, error.what()));
    }
    if (after) {
      try {
        after(db, migration.number, report);
      } catch (const SqliteError& error) {
        throw std::runtime_error(
            fmt::format("migration {} failed: {}", migration.name, error.what()));
      }
    }
    db.execute_script(fmt::format("PRAGMA user_version = {}", migration.number));
    transaction.commit();
    report.to_version = migration.number;
  }
  return report;
}

void require_current_schema(Database& db) {
  const int database_version = db.user_version();
  const int known_version = binary_schema_version();
  if (database_version > known_version) {
    throw InputError(newer_database_message(db, database_version, known_version));
  }
  if (database_version < known_version) {
    throw InputError(fmt::format(
        "database '{}' has schema version {}, this binary needs {}; run `tailsweep db migrate "
        "--db {}` first",
        db.path(), database_version, known_version, db.path()));
  }
}

// A tailsweep database has a schema version; a plain SQLite file has 0.
void require_tailsweep_database(Database& db) {
  int version = 0;
  try {
    version = db.user_version();
  } catch (const SqliteError& error) {
    throw InputError(fmt::format("'{}' is not a tailsweep database: {}", db.path(), error.what()));
  }
  if (version == 0) {
    throw InputError(fmt::format(
        "'{}' is not a tailsweep database (it has no schema version; `tailsweep db migrate` "
        "creates one)",
        db.path()));
  }
  require_current_schema(db);
}

}  // namespace tailsweep::store
