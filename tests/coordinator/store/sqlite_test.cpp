#include "coordinator/store/sqlite.h"

#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "../../support/temp_dir.h"
#include "common/util/errors.h"

namespace tailsweep::store {
namespace {

class SqliteTest : public ::testing::Test {
 protected:
  SqliteTest() : db_((dir_ / "test.db").string(), OpenOptions{.read_only = false, .create = true}) {
    db_.execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, value REAL)");
  }

  int64_t rows() {
    auto statement = db_.prepare("SELECT count(*) FROM t");
    statement.step();
    return statement.column_int64(0);
  }

  testing::TempDir dir_{"tailsweep-sqlite"};
  Database db_;
};

TEST_F(SqliteTest, OpensInWalModeWithForeignKeys) {
  auto journal = db_.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(journal.step());
  EXPECT_EQ(journal.column_text(0), "wal");
  auto keys = db_.prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(keys.step());
  EXPECT_EQ(keys.column_int64(0), 1);
  auto synchronous = db_.prepare("PRAGMA synchronous");
  ASSERT_TRUE(synchronous.step());
  EXPECT_EQ(synchronous.column_int64(0), 1);  // NORMAL
}

TEST_F(SqliteTest, BindsByIndexAndNameAndReadsTypedColumns) {
  auto insert = db_.prepare("INSERT INTO t (name, value) VALUES (:name, :value)");
  insert.bind(":name", "first").bind(":value", 1.5);
  insert.execute();
  insert.reset();
  insert.bind(1, std::optional<std::string>{}).bind(2, std::optional<double>{});
  insert.execute();

  auto select = db_.prepare("SELECT id, name, value FROM t WHERE id = ?");
  select.bind(1, 1);
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.column_int64(0), 1);
  EXPECT_EQ(select.column_text(1), "first");
  EXPECT_DOUBLE_EQ(select.column_double(2), 1.5);
  EXPECT_EQ(select.column_type(2), ColumnType::real);
  EXPECT_EQ(select.column_name(1), "name");
  EXPECT_FALSE(select.step());

  select.reset();
  select.bind(1, int64_t{2});
  ASSERT_TRUE(select.step());
  EXPECT_TRUE(select.column_is_null(1));
  EXPECT_EQ(select.column_optional_text(1), std::nullopt);
  EXPECT_EQ(select.column_optional_double(2), std::nullopt);
  EXPECT_THROW(select.column_text(3), SqliteError);
  EXPECT_THROW(select.bind(":missing", 1), SqliteError);
}

TEST_F(SqliteTest, RefusesASecondStatementAndEmptyText) {
  EXPECT_THROW(db_.prepare("SELECT 1; SELECT 2"), SqliteError);
  EXPECT_THROW(db_.prepare("SELECT 1; DELETE FROM t"), SqliteError);
  EXPECT_THROW(db_.prepare("   -- nothing"), SqliteError);
  EXPECT_NO_THROW(db_.prepare("SELECT 1; ;  -- a comment\n"));
  EXPECT_THROW(db_.prepare("SELEC 1"), SqliteError);
}

TEST_F(SqliteTest, CachesStatementsAndResetsThemWhenReturned) {
  {
    auto first = db_.cached("SELECT ?");
    first->bind(1, 7);
    ASSERT_TRUE(first->step());
    EXPECT_EQ(first->column_int64(0), 7);
    // The same text while the first is still borrowed is a bug.
    EXPECT_THROW(db_.cached("SELECT ?"), std::logic_error);
  }
  auto again = db_.cached("SELECT ?");
  ASSERT_TRUE(again->step());  // bindings were cleared: NULL
  EXPECT_TRUE(again->column_is_null(0));
}

TEST_F(SqliteTest, TransactionCommits) {
  {
    Transaction transaction(db_);
    db_.execute_script("INSERT INTO t (name) VALUES ('kept')");
    transaction.commit();
  }
  EXPECT_EQ(rows(), 1);
}

TEST_F(SqliteTest, TransactionRollsBackWhenAnExceptionLeavesTheScope) {
  EXPECT_THROW(
      {
        Transaction transaction(db_);
        db_.execute_script("INSERT INTO t (name) VALUES ('lost')");
        throw std::runtime_error("something failed half-way");
      },
      std::runtime_error);
  EXPECT_EQ(rows(), 0);
  // The connection is usable again: no transaction is left open.
  Transaction transaction(db_);
  transaction.commit();
}

// Group commit: transactions nested in an open one are savepoints, each
// rolling back alone, all committed by the outer COMMIT.
TEST_F(SqliteTest, NestedTransactionsAreSavepointsThatRollBackAlone) {
  {
    Transaction outer(db_);
    {
      Transaction first(db_);
      db_.execute_script("INSERT INTO t (name) VALUES ('first')");
      first.commit();
    }
    EXPECT_THROW(
        {
          Transaction second(db_);
          db_.execute_script("INSERT INTO t (name) VALUES ('second')");
          throw std::runtime_error("this one fails");
        },
        std::runtime_error);
    EXPECT_TRUE(db_.in_transaction());
    EXPECT_EQ(rows(), 1);
    outer.commit();
  }
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(rows(), 1);
  {
    Transaction outer(db_);
    Transaction inner(db_);
    db_.execute_script("INSERT INTO t (name) VALUES ('rolled back with the outer')");
    inner.commit();
  }  // the outer is not committed
  EXPECT_EQ(rows(), 1);
}

TEST_F(SqliteTest, ASecondWriterWaitsThenTimesOutWithBusy) {
  Database other((dir_ / "test.db").string(), OpenOptions{.busy_timeout_ms = 50});
  Transaction holding(db_);
  try {
    Transaction blocked(other);
    FAIL() << "the second BEGIN IMMEDIATE should not get the write lock";
  } catch (const SqliteError& error) {
    EXPECT_EQ(error.code() & 0xff, 5);  // SQLITE_BUSY
  }
}

TEST(Database, MissingFileOrNotADatabaseIsAnInputError) {
  testing::TempDir dir("tailsweep-sqlite");
  EXPECT_THROW(Database((dir / "absent.db").string(), OpenOptions{}), InputError);
  {
    std::ofstream junk(dir / "junk.db");
    junk << "this is not an SQLite file, but it is long enough to have a header......";
  }
  EXPECT_THROW(Database((dir / "junk.db").string(), OpenOptions{}), InputError);
}

}  // namespace
}  // namespace tailsweep::store
