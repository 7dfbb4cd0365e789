#include "coordinator/store/read_only_query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"
#include "store_fixture.h"

namespace tailsweep::store {
namespace {

using ::testing::HasSubstr;

class ReadOnlyQueryTest : public StoreTest {
 protected:
  ReadOnlyQueryTest() {
    const auto agent = register_agent("cpu-1");
    store().create_sweep("first", R"({"models": ["deit-tiny"]})",
                         {profile_job(agent.device_id), profile_job(std::nullopt)}, 1);
  }

  QueryResult query(std::string_view sql, QueryLimits limits = {}) {
    return run_read_only_query(path(), sql, limits);
  }

  // The error message of a query that must be refused.
  std::string refusal(std::string_view sql, QueryLimits limits = {}) {
    try {
      query(sql, limits);
    } catch (const InputError& error) {
      return error.what();
    }
    ADD_FAILURE() << "not refused: " << sql;
    return "";
  }
};

TEST_F(ReadOnlyQueryTest, ReturnsColumnsAndTypedCells) {
  const QueryResult result = query(
      "SELECT job_id, device, state, NULL AS empty, 1.5 AS ratio, x'00ff' AS bytes "
      "FROM job_overview ORDER BY job_id;");
  EXPECT_EQ(result.columns,
            (std::vector<std::string>{"job_id", "device", "state", "empty", "ratio", "bytes"}));
  ASSERT_EQ(result.rows.size(), 2u);
  EXPECT_EQ(result.rows[0][0], 1);
  EXPECT_EQ(result.rows[0][1], "cpu-1");
  EXPECT_EQ(result.rows[1][1], "(any real device)");
  EXPECT_EQ(result.rows[0][2], "queued");
  EXPECT_TRUE(result.rows[0][3].is_null());
  EXPECT_EQ(result.rows[0][4], 1.5);
  EXPECT_EQ(result.rows[0][5], "00ff");
  EXPECT_FALSE(result.truncated);
}

TEST_F(ReadOnlyQueryTest, RefusesEveryKindOfWrite) {
  for (const char* write : {
           "INSERT INTO sweeps (name, spec, created_at) VALUES ('x', '{}', 1)",
           "UPDATE jobs SET state = 'done'",
           "DELETE FROM jobs",
           "REPLACE INTO sweeps (id, name, spec, created_at) VALUES (1, 'x', '{}', 1)",
           "CREATE TABLE evil (x)",
           "CREATE TEMP TABLE evil (x)",
           "CREATE VIEW evil AS SELECT 1",
           "CREATE INDEX evil ON jobs (kind)",
           "DROP TABLE jobs",
           "DROP VIEW curve",
           "ALTER TABLE jobs ADD COLUMN evil TEXT",
           "ALTER TABLE jobs RENAME TO evil",
           "BEGIN",
           "VACUUM",
           "ANALYZE",
           "REINDEX",
           "SAVEPOINT s",
       }) {
    EXPECT_NE(refusal(write), "") << write;
  }
  EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE state = 'queued'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM sweeps"), 1);
}

TEST_F(ReadOnlyQueryTest, RefusesAttachPragmaWritesAndExtensions) {
  EXPECT_THAT(refusal("ATTACH DATABASE '/tmp/tailsweep-evil.db' AS evil"), HasSubstr("ATTACH"));
  EXPECT_NE(refusal("DETACH DATABASE main"), "");
  EXPECT_THAT(refusal("PRAGMA user_version = 7"), HasSubstr("argument"));
  EXPECT_THAT(refusal("PRAGMA journal_mode = DELETE"), HasSubstr("argument"));
  EXPECT_THAT(refusal("PRAGMA writable_schema"), HasSubstr("not allowed"));
  EXPECT_THAT(refusal("SELECT load_extension('/tmp/evil.so')"), HasSubstr("load_extension"));
  auto version = store().database().prepare("PRAGMA user_version");
  version.step();
  EXPECT_EQ(version.column_int64(0), binary_schema_version());
}

TEST_F(ReadOnlyQueryTest, AllowsReportingPragmas) {
  const QueryResult version = query("PRAGMA user_version");
  ASSERT_EQ(version.rows.size(), 1u);
  EXPECT_EQ(version.rows[0][0], binary_schema_version());
  const QueryResult columns = query("PRAGMA table_info(jobs)");
  EXPECT_GT(columns.rows.size(), 10u);
}

TEST_F(ReadOnlyQueryTest, RefusesMoreThanOneStatement) {
  EXPECT_THAT(refusal("SELECT 1; DELETE FROM jobs"), HasSubstr("one SQL statement"));
  EXPECT_THAT(refusal("SELECT 1; SELECT 2"), HasSubstr("one SQL statement"));
  EXPECT_NO_THROW(query("SELECT 1;  \n -- done\n"));
  EXPECT_NE(refusal(""), "");
  EXPECT_THAT(refusal("SELECT * FROM no_such_table"), HasSubstr("no_such_table"));
}

TEST_F(ReadOnlyQueryTest, StopsAtTheRowLimitAndSaysSo) {
  const QueryResult result = query(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 50) "
      "SELECT x FROM n",
      QueryLimits{.max_rows = 10});
  EXPECT_EQ(result.rows.size(), 10u);
  EXPECT_TRUE(result.truncated);
  EXPECT_EQ(result.truncated_by, "max_rows");
  const QueryResult exact = query("SELECT 1 UNION ALL SELECT 2", QueryLimits{.max_rows = 2});
  EXPECT_FALSE(exact.truncated);
}

TEST_F(ReadOnlyQueryTest, StopsAQueryThatWouldRunForever) {
  const std::string message = refusal(
      "WITH RECURSIVE forever(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM forever) "
      "SELECT count(*) FROM forever",
      QueryLimits{.max_rows = 10, .timeout = std::chrono::milliseconds(200)});
  EXPECT_THAT(message, HasSubstr("time limit"));
}

// SELECT randomblob(1e9) once answered 2 GB after 21 s, with a peak RSS of
// 6.2 GB: no single value may now be larger than the whole answer.
TEST_F(ReadOnlyQueryTest, RefusesAValueLargerThanTheAnswerMayBe) {
  EXPECT_THAT(refusal("SELECT randomblob(1e9)"), HasSubstr("too big"));
  EXPECT_THAT(refusal("SELECT zeroblob(2000)", QueryLimits{.max_bytes = 1000}),
              HasSubstr("too big"));
  EXPECT_FALSE(query("SELECT zeroblob(400)", QueryLimits{.max_bytes = 1000}).truncated);
}

TEST_F(ReadOnlyQueryTest, StopsAtTheByteLimitAndSaysSo) {
  // Many modest rows: each fits, all together do not. A BLOB counts as its hex.
  const QueryResult result = query(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 1000) "
      "SELECT x, randomblob(100) FROM n",
      QueryLimits{.max_bytes = 10'000});
  EXPECT_TRUE(result.truncated);
  EXPECT_EQ(result.truncated_by, "max_bytes");
  EXPECT_GT(result.rows.size(), 20u);
  EXPECT_LT(result.rows.size(), 60u);  // about 10,000 / (200 hex + 30) rows
  std::size_t answer = nlohmann::json(result.rows).dump().size();
  EXPECT_LE(answer, 10'000u);
}

TEST_F(ReadOnlyQueryTest, ALongAnswerStopsAtTheTimeLimit) {
  // Each row is cheap for SQLite; the rows are endless, and the row and byte
  // limits are out of reach: only the time limit ends it.
  const std::string message = refusal(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x, hex(x) FROM n",
      QueryLimits{.max_rows = 100'000'000,
                  .max_bytes = std::size_t{1} << 40,
                  .timeout = std::chrono::milliseconds(300)});
  EXPECT_THAT(message, HasSubstr("time limit"));
}

TEST_F(ReadOnlyQueryTest, AMissingDatabaseIsAnInputError) {
  EXPECT_THROW(run_read_only_query(path() + ".absent", "SELECT 1"), InputError);
}

}  // namespace
}  // namespace tailsweep::store
