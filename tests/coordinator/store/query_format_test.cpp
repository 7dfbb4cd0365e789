#include "coordinator/store/query_format.h"

#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::store {
namespace {

QueryResult sample() {
  QueryResult result;
  result.columns = {"device", "tokens", "median_ms"};
  result.rows = {{"orin", 197, 21.5}, {"cpu, \"big\"", 2, nullptr}};
  return result;
}

TEST(CsvField, QuotesOnlyWhatRfc4180Requires) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
}

TEST(RenderCsv, WritesAHeaderAndCrlfRecordsWithNullAsEmpty) {
  EXPECT_EQ(render_csv(sample()),
            "device,tokens,median_ms\r\n"
            "orin,197,21.5\r\n"
            "\"cpu, \"\"big\"\"\",2,\r\n");
}

TEST(RenderTable, AlignsColumnsAndCountsRows) {
  EXPECT_EQ(render_table(sample()),
            "device      tokens  median_ms\n"
            "----------  ------  ---------\n"
            "orin           197       21.5\n"
            "cpu, \"big\"       2       NULL\n"
            "(2 rows)\n");
  QueryResult truncated = sample();
  truncated.rows.pop_back();
  truncated.truncated = true;
  EXPECT_NE(render_table(truncated).find("(1 row, truncated"), std::string::npos);
}

TEST(RenderJson, IsTheCanonicalForm) {
  const auto json = nlohmann::json::parse(render_json(sample()));
  EXPECT_EQ(json.at("columns").size(), 3u);
  EXPECT_EQ(json.at("rows").at(0).at(1), 197);
  EXPECT_TRUE(json.at("rows").at(1).at(2).is_null());
  EXPECT_EQ(json.at("truncated"), false);
}

TEST(QueryFormat, ParsesKnownNamesOnly) {
  EXPECT_EQ(parse_query_format("csv"), QueryFormat::csv);
  EXPECT_EQ(parse_query_format("table"), QueryFormat::table);
  EXPECT_EQ(parse_query_format("json"), QueryFormat::json);
  EXPECT_THROW(parse_query_format("xml"), InputError);
}

}  // namespace
}  // namespace tailsweep::store
