#include "coordinator/store/backup.h"

#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <system_error>
#include <thread>

#include <fmt/core.h>

#include "common/util/errors.h"

namespace tailsweep::store {
namespace {

// The temporary copy: removed unless it was renamed into place.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::filesystem::path path) : path_(std::move(path)) {}
  ~TemporaryFile() {
    remove_sidecars();
    if (!kept_) {
      std::error_code ignored;
      std::filesystem::remove(path_, ignored);
    }
  }
  // The -wal and -shm files a closed read-only connection leaves (empty).
  void remove_sidecars() {
    std::error_code ignored;
    std::filesystem::remove(path_.string() + "-wal", ignored);
    std::filesystem::remove(path_.string() + "-shm", ignored);
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void keep() { kept_ = true; }

 private:
  std::filesystem::path path_;
  bool kept_ = false;
};

}  // namespace

BackupReport backup_database(Database& source, const std::string& destination_path) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::exists(destination_path) &&
      fs::equivalent(fs::path(source.path()), fs::path(destination_path), error)) {
    throw InputError(fmt::format("the backup {} is the database itself", destination_path));
  }
  // A name of its own, so that two backups at once never write one file.
  TemporaryFile temporary(
      fs::path(destination_path)
          .concat(fmt::format(".partial-{}-{}", ::getpid(), std::random_device{}())));
  BackupReport report;
  {
    // A plain connection: Database would put the empty copy in WAL mode,
    // where SQLite cannot take a source of another page size.
    sqlite3* raw = nullptr;
    const int opened = sqlite3_open_v2(temporary.path().c_str(), &raw,
                                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> copy(raw, &sqlite3_close);
    if (opened != SQLITE_OK) {
      throw InputError(fmt::format("cannot write {}: {}", temporary.path().string(),
                                   raw ? sqlite3_errmsg(raw) : sqlite3_errstr(opened)));
    }
    sqlite3_backup* backup = sqlite3_backup_init(copy.get(), "main", source.handle(), "main");
    if (backup == nullptr) {
      throw InputError(fmt::format("cannot back up to {}: {}", destination_path,
                                   sqlite3_errmsg(copy.get())));
    }
    // All pages in one step: one read transaction, so the copy is the
    // database at one moment. A writer holding the lock briefly only delays it.
    int result = SQLITE_OK;
    for (int attempt = 0; attempt < 200; ++attempt) {
      result = sqlite3_backup_step(backup, -1);
      if (result != SQLITE_BUSY && result != SQLITE_LOCKED) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    report.pages = sqlite3_backup_pagecount(backup);
    sqlite3_backup_finish(backup);
    if (result != SQLITE_DONE) {
      throw InputError(
          fmt::format("backup to {} failed: {}", destination_path, sqlite3_errmsg(copy.get())));
    }
    // The copy took the source's header, WAL mode included. A copy in WAL
    // mode would read whatever -wal file lies beside its name; in rollback
    // mode it is one self-contained file.
    char* error_text = nullptr;
    if (sqlite3_exec(copy.get(), "PRAGMA journal_mode=DELETE", nullptr, nullptr, &error_text) !=
        SQLITE_OK) {
      const std::string why = error_text ? error_text : "unknown error";
      sqlite3_free(error_text);
      throw InputError(fmt::format("backup to {} failed: {}", destination_path, why));
    }
  }
  {
    Database copy(temporary.path().string(), OpenOptions{.read_only = true});
    auto check = copy.prepare("PRAGMA integrity_check");
    report.integrity = check.step() ? check.column_text(0) : "no answer";
    report.schema_version = copy.user_version();
  }
  temporary.remove_sidecars();
  if (report.integrity != "ok") {
    throw InputError(
        fmt::format("the copy failed its integrity check ({}); {} is unchanged", report.integrity,
                    destination_path));
  }
  // A -wal or -shm of an earlier copy of that name would be read with this one.
  fs::remove(destination_path + "-wal", error);
  fs::remove(destination_path + "-shm", error);
  fs::rename(temporary.path(), destination_path, error);
  if (error) {
    throw InputError(fmt::format("cannot write {}: {}", destination_path, error.message()));
  }
  temporary.keep();
  report.bytes = static_cast<int64_t>(fs::file_size(destination_path, error));
  return report;
}

}  // namespace tailsweep::store
