#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../support/run_command.h"
#include "../../support/temp_dir.h"

namespace tailsweep {
namespace {

using tailsweep::testing::run_command;
using tailsweep::testing::shell_quote;
using ::testing::HasSubstr;
using ::testing::Not;

std::string migrate(const std::string& db) {
  return std::string(TAILSWEEP_BIN) + " db migrate --db " + shell_quote(db);
}

TEST(DbMigrateCommand, CreatesThenReportsUpToDate) {
  const testing::TempDir dir("tailsweep-cli-db");
  const std::string db = (dir / "results.db").string();
  const auto created = run_command(migrate(db));
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_THAT(created.out, HasSubstr("schema version 0 -> "));
  const auto again = run_command(migrate(db));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("up to date"));
  const auto version = run_command("sqlite3 " + shell_quote(db) + " 'PRAGMA user_version'");
  if (version.exit_code == 0) {
    EXPECT_NE(version.out, "0\n");
  }
}

TEST(DbMigrateCommand, RefusesANewerDatabaseWithOneLine) {
  const testing::TempDir dir("tailsweep-cli-db");
  const std::string db = (dir / "results.db").string();
  ASSERT_EQ(run_command(migrate(db)).exit_code, 0);
  const auto bump = run_command(std::string(TAILSWEEP_BIN) + " sql 'SELECT 1' --db " +
                                shell_quote(db));  // a read works
  ASSERT_EQ(bump.exit_code, 0) << bump.err;
  // Raise user_version through SQLite itself, as a newer binary would.
  const auto newer = run_command("sqlite3 " + shell_quote(db) + " 'PRAGMA user_version = 42'");
  if (newer.exit_code != 0) GTEST_SKIP() << "the sqlite3 shell is not installed";
  const auto refused = run_command(migrate(db));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("42"));
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1);
}

TEST(DbMigrateCommand, NeedsADatabasePath) {
  const auto missing = run_command(std::string(TAILSWEEP_BIN) + " db migrate");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("--db"));
  const auto unwritable = run_command(migrate("/nonexistent-dir/results.db"));
  EXPECT_EQ(unwritable.exit_code, 2);
  EXPECT_THAT(unwritable.err, HasSubstr("cannot open database"));
}

// Before: SQLite opened /dev/null and created /dev/null-journal beside it.
TEST(DbMigrateCommand, RefusesAPathThatIsNotARegularFile) {
  const testing::TempDir dir("tailsweep-cli-db");
  for (const std::string& path : {std::string("/dev/null"), dir.path().string()}) {
    const auto refused = run_command(migrate(path));
    EXPECT_EQ(refused.exit_code, 2) << path;
    EXPECT_THAT(refused.err, HasSubstr("not a regular file")) << path;
  }
  EXPECT_FALSE(std::filesystem::exists("/dev/null-journal"));
  EXPECT_FALSE(std::filesystem::exists("/dev/null-wal"));
}

// Before: 9223372036854775808 was read as INT64_MAX, another sweep's id.
TEST(IdArguments, AnIdPastInt64IsRefusedNotClamped) {
  for (const std::string& command :
       {std::string(TAILSWEEP_BIN) + " report --db x.db --out x --sweep=9223372036854775808",
        std::string(TAILSWEEP_BIN) +
            " sweep status 9223372036854775808 --coordinator http://127.0.0.1:1 --admin-token t",
        std::string(TAILSWEEP_BIN) +
            " sweep cancel 0 --coordinator http://127.0.0.1:1 --admin-token t"}) {
    const auto refused = run_command(command);
    EXPECT_EQ(refused.exit_code, 2) << command;
    EXPECT_THAT(refused.err, HasSubstr("is not an id")) << command;
  }
}

TEST(DbBackupCommand, CopiesAndChecksAndRefusesWhatIsNoCopy) {
  const testing::TempDir dir("tailsweep-cli-db");
  const std::string db = (dir / "results.db").string();
  ASSERT_EQ(run_command(migrate(db)).exit_code, 0);
  const std::string backup = std::string(TAILSWEEP_BIN) + " db backup --db " + shell_quote(db);
  const auto copied = run_command(backup + " --to " + shell_quote((dir / "copy.db").string()));
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_THAT(copied.out, HasSubstr("integrity ok"));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_THAT(entry.path().filename().string(), Not(HasSubstr("partial")));
  }
  const auto read = run_command(std::string(TAILSWEEP_BIN) + " sql 'SELECT count(*) FROM job_view' --db " +
                                shell_quote((dir / "copy.db").string()));
  EXPECT_EQ(read.exit_code, 0) << read.err;  // the copy is a database at this schema

  const auto itself = run_command(backup + " --to " + shell_quote(db));
  EXPECT_EQ(itself.exit_code, 2);
  EXPECT_THAT(itself.err, HasSubstr("is the database itself"));
  std::ofstream(dir / "plain.txt") << "not a database";
  const auto plain = run_command(std::string(TAILSWEEP_BIN) + " db backup --db " +
                                 shell_quote((dir / "plain.txt").string()) + " --to " +
                                 shell_quote((dir / "x.db").string()));
  EXPECT_EQ(plain.exit_code, 2);
  EXPECT_THAT(plain.err, HasSubstr("not a tailsweep database"));
  const auto unwritable =
      run_command(backup + " --to " + shell_quote("/nonexistent-dir/copy.db"));
  EXPECT_EQ(unwritable.exit_code, 2);
  EXPECT_THAT(unwritable.err, HasSubstr("/nonexistent-dir/copy.db"));
}

// Every command's --help ends with at least one example.
TEST(Help, EveryCommandShowsAnExample) {
  for (const char* command :
       {"", "tokens", "db", "db migrate", "db backup", "serve", "schedule", "schedule pomt", "sweep",
        "sweep create", "sweep status", "sweep wait", "sweep cancel", "devices", "devices retire",
        "sql", "report", "compare"}) {
    const auto help = run_command(std::string(TAILSWEEP_BIN) + " " + command + " --help");
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_THAT(help.out, HasSubstr("Example")) << command;
    EXPECT_THAT(help.out, HasSubstr("tailsweep ")) << command;
  }
}

// A misspelt option: one line that names the option meant.
TEST(MisspeltOptions, AreAnsweredWithTheClosestOne) {
  const auto refused = run_command(std::string(TAILSWEEP_BIN) +
                                   " sweep wait 1 --coordinator http://127.0.0.1:1 --timout 5");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("--timout; did you mean --timeout? (see --help)"));
  const auto far = run_command(std::string(TAILSWEEP_BIN) +
                               " sweep wait 1 --coordinator http://127.0.0.1:1 --zzzzzzz 5");
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_THAT(far.err, Not(HasSubstr("did you mean")));
}

// Before: a number past double's range in a spec exited 1 ("failed").
TEST(SweepCreateCommand, ASpecThatIsNotStrictJsonExits2BeforeAnyCall) {
  const testing::TempDir dir("tailsweep-cli-db");
  const auto spec = dir / "spec.json";
  for (const char* text :
       {R"({"name": "x", "workloads": [{"curves": {"precision": 1e400}}]})",
        R"({"name": "x", "name": "y"})",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]"}) {
    std::ofstream(spec) << text;
    const auto refused =
        run_command(std::string(TAILSWEEP_BIN) + " sweep create " + shell_quote(spec.string()) +
                    " --coordinator http://127.0.0.1:1 --admin-token t");
    EXPECT_EQ(refused.exit_code, 2) << text << ": " << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("spec.json")) << text;
    EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  }
}

}  // namespace
}  // namespace tailsweep
