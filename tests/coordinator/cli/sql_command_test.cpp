#include <algorithm>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../support/run_command.h"
#include "../../support/temp_dir.h"

namespace tailsweep {
namespace {

using tailsweep::testing::run_command;
using tailsweep::testing::shell_quote;
using ::testing::HasSubstr;

class SqlCommandTest : public ::testing::Test {
 protected:
  SqlCommandTest() : db_((dir_ / "results.db").string()) {
    const auto migrated =
        run_command(std::string(TAILSWEEP_BIN) + " db migrate --db " + shell_quote(db_));
    EXPECT_EQ(migrated.exit_code, 0) << migrated.err;
  }

  testing::CommandResult sql(const std::string& query, const std::string& flags = "") {
    return run_command(std::string(TAILSWEEP_BIN) + " sql " + shell_quote(query) + " --db " +
                       shell_quote(db_) + " " + flags);
  }

  testing::TempDir dir_{"tailsweep-cli-sql"};
  std::string db_;
};

TEST_F(SqlCommandTest, PrintsATableByDefault) {
  const auto result = sql("SELECT 'a' AS name, 12 AS n UNION ALL SELECT 'bcd', 3");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "name   n\n"
            "----  --\n"
            "a     12\n"
            "bcd    3\n"
            "(2 rows)\n");
}

TEST_F(SqlCommandTest, PrintsCsvAndJson) {
  const auto csv = sql("SELECT 'x,y' AS v, NULL AS empty", "--format csv");
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out, "v,empty\r\n\"x,y\",\r\n");
  const auto json = sql("SELECT name FROM sqlite_master WHERE name = 'jobs'", "--format json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed.at("rows").at(0).at(0), "jobs");
  EXPECT_EQ(parsed.at("truncated"), false);
}

TEST_F(SqlCommandTest, FlagsTruncationAtTheRowLimit) {
  const auto csv =
      sql("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3", "--format csv --max-rows 2");
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 3);  // header + 2 rows
  EXPECT_THAT(csv.err, HasSubstr("truncated"));
}

TEST_F(SqlCommandTest, BadInputExitsWithTwoAndOneLine) {
  for (const auto& [query, flags, expected] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"DELETE FROM jobs", "", "read-only"},
           {"SELECT 1; SELECT 2", "", "one SQL statement"},
           {"SELECT nope FROM jobs", "", "nope"},
           {"SELECT 1", "--format xml", "xml"},
           {"SELECT 1", "--max-rows 0", "row limit"},
           {"WITH RECURSIVE f(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM f) SELECT max(x) FROM f",
            "--timeout-ms 200", "time limit"},
       }) {
    const auto result = sql(query, flags);
    EXPECT_EQ(result.exit_code, 2) << query << " " << flags;
    EXPECT_THAT(result.err, HasSubstr(expected)) << query;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
  const auto absent =
      run_command(std::string(TAILSWEEP_BIN) + " sql 'SELECT 1' --db " + shell_quote(db_ + ".x"));
  EXPECT_EQ(absent.exit_code, 2);
  const auto no_db = run_command(std::string(TAILSWEEP_BIN) + " sql 'SELECT 1'");
  EXPECT_EQ(no_db.exit_code, 2);
  EXPECT_THAT(no_db.err, HasSubstr("--db"));
}

}  // namespace
}  // namespace tailsweep
