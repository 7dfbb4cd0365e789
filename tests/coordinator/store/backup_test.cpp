// The online backup while another connection keeps writing: the copy is the
// database at one moment, whole and checked; a bad destination changes
// nothing.
#include "coordinator/store/backup.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"
#include "coordinator/store/migrations.h"
#include "store_fixture.h"

namespace tailsweep::store {
namespace {

using ::testing::HasSubstr;

class BackupTest : public StoreTest {};

TEST_F(BackupTest, ACopyTakenWhileSweepsAreWrittenIsWholeAndConsistent) {
  const auto device = register_agent("cpu-1").device_id;
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  // A second connection writes sweeps of 20 jobs each, as a coordinator would.
  std::thread writer([&] {
    Store other = Store::open(path());
    while (!stop) {
      other.create_sweep("s", "{}", std::vector<PlannedJob>(20, profile_job(device)), 200);
      ++written;
    }
  });
  while (written < 5) std::this_thread::yield();
  const std::filesystem::path copy = std::filesystem::path(path()).parent_path() / "copy.db";
  Database source(path(), OpenOptions{.read_only = true});
  const BackupReport report = backup_database(source, copy.string());
  stop = true;
  writer.join();
  EXPECT_EQ(report.integrity, "ok");
  EXPECT_EQ(report.schema_version, binary_schema_version());
  EXPECT_GT(report.pages, 0);
  EXPECT_GT(report.bytes, 0);
  for (const auto& entry : std::filesystem::directory_iterator(copy.parent_path())) {
    EXPECT_FALSE(entry.path().filename().string().starts_with("copy.db."))
        << entry.path();  // no temporary file, no -wal or -shm left
    EXPECT_FALSE(entry.path().filename().string().starts_with("copy.db-")) << entry.path();
  }

  // One moment: every sweep in the copy has all its 20 jobs, none half.
  Database copied(copy.string(), OpenOptions{.read_only = true});
  require_current_schema(copied);
  auto mode = copied.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.column_text(0), "delete");  // one self-contained file, no WAL to go with it
  auto sweeps = copied.prepare("SELECT count(*) FROM sweeps");
  ASSERT_TRUE(sweeps.step());
  const int64_t in_copy = sweeps.column_int64(0);
  EXPECT_GE(in_copy, 5);
  EXPECT_LE(in_copy, written.load());
  auto jobs = copied.prepare("SELECT count(*) FROM jobs");
  ASSERT_TRUE(jobs.step());
  EXPECT_EQ(jobs.column_int64(0), 20 * in_copy);
}

TEST_F(BackupTest, ABadDestinationLeavesWhatWasThere) {
  Database source(path(), OpenOptions{.read_only = true});
  try {
    backup_database(source, path());
    FAIL() << "backed up onto itself";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("is the database itself"));
  }
  EXPECT_THROW(backup_database(source, "/nonexistent-dir/copy.db"), InputError);
  // An earlier copy is replaced only by a whole one.
  const std::filesystem::path copy = std::filesystem::path(path()).parent_path() / "copy.db";
  backup_database(source, copy.string());
  register_agent("cpu-2");
  const BackupReport again = backup_database(source, copy.string());
  EXPECT_EQ(again.integrity, "ok");
  Database copied(copy.string(), OpenOptions{.read_only = true});
  auto devices = copied.prepare("SELECT count(*) FROM devices");
  ASSERT_TRUE(devices.step());
  EXPECT_EQ(devices.column_int64(0), 1);
}

}  // namespace
}  // namespace tailsweep::store
