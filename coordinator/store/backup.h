#pragma once
// An online copy of the results database: SQLite's backup API copies every
// page as of one moment while the coordinator keeps writing (in WAL mode a
// reader never blocks a writer), then the copy is checked.
#include <cstdint>
#include <string>

#include "coordinator/store/sqlite.h"

namespace tailsweep::store {

struct BackupReport {
  int64_t pages = 0;
  int64_t bytes = 0;
  int schema_version = 0;
  std::string integrity;  // PRAGMA integrity_check's answer on the copy: "ok"
};

// Copies `source` to `destination_path` through a temporary file beside it
// (a name of its own per run) that is renamed over it once whole and
// checked, so the destination is either what it was or a whole, checked
// copy. The copy is in rollback-journal mode: one self-contained file. InputError for a destination
// that cannot be written (or is the source), or a copy that fails its
// integrity check (the temporary file is removed).
BackupReport backup_database(Database& source, const std::string& destination_path);

}  // namespace tailsweep::store
