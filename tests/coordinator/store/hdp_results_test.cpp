// What Hybrid Dynamic Pruning pruned (docs/hdp.md), from eval and latency
// results into the hdp_* columns and the hdp views; a body whose counts are
// missing, contradict their shares or belong to no HDP method is refused.
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"
#include "results_fixture.h"

namespace tailsweep::store {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kSetting = "hdp:heads=0.1,blocks=0.5,approx=0,frac=8";

// 3 of 24 (image, head) pairs pruned, 100 of 200 blocks, 40% of the MACs.
json hdp_object() {
  json counts = {{"heads", 24},
                 {"heads_pruned", 3},
                 {"heads_pruned_share", 0.125},
                 {"blocks", 200},
                 {"blocks_pruned", 100},
                 {"blocks_pruned_share", 0.5},
                 {"attention_macs", 5000},
                 {"attention_macs_skipped", 2000},
                 {"attention_macs_skipped_share", 0.4},
                 {"frac_macs_dropped", 0},
                 {"int_macs", 2500}};
  json one_block = counts;  // a model of one block: its counts are the totals
  counts["per_block"] = json::array({one_block});
  return counts;
}

json hdp_eval_spec() {
  json spec = job_spec("eval");
  spec["method"] = kSetting;
  return spec;
}

json hdp_eval_body() {
  json body = eval_body();
  body["method"] = kSetting;
  body["hdp"] = hdp_object();
  return body;
}

TEST_F(ResultsTest, AnHdpEvalKeepsWhatItPrunedInColumns) {
  ASSERT_EQ(submit("eval", hdp_eval_body(), hdp_eval_spec()), SubmitOutcome::accepted);
  auto row = store().database().prepare(
      "SELECT method, heads, heads_pruned, heads_pruned_share, blocks_pruned_share, "
      "attention_macs_skipped, attention_macs_skipped_share, baseline_top1 FROM hdp_view");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_text(0), kSetting);
  EXPECT_EQ(row.column_int64(1), 24);
  EXPECT_EQ(row.column_int64(2), 3);
  EXPECT_DOUBLE_EQ(row.column_double(3), 0.125);
  EXPECT_DOUBLE_EQ(row.column_double(4), 0.5);
  EXPECT_EQ(row.column_int64(5), 2000);
  EXPECT_DOUBLE_EQ(row.column_double(6), 0.4);
  EXPECT_FALSE(row.column_optional_double(7).has_value());  // no "none" in this sweep
  EXPECT_FALSE(row.step());
  // An eval without HDP leaves the columns NULL and stays out of the view.
  ASSERT_EQ(submit("eval", eval_body()), SubmitOutcome::accepted);
  EXPECT_EQ(count("SELECT count(*) FROM evaluations WHERE hdp_heads IS NULL"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM hdp_view"), 1);
}

TEST_F(ResultsTest, HdpCountsThatAreMissingOrContradictThemselvesAreRefused) {
  json missing = hdp_eval_body();
  missing.erase("hdp");
  json stray = eval_body();
  stray["hdp"] = hdp_object();
  json share = hdp_eval_body();
  share["hdp"]["heads_pruned_share"] = 0.5;
  json more = hdp_eval_body();
  more["hdp"]["blocks_pruned"] = 201;
  json unknown = hdp_eval_body();
  unknown["hdp"]["rows_pruned"] = 1;
  json negative = hdp_eval_body();
  negative["hdp"]["attention_macs_skipped"] = -1;
  const std::vector<std::tuple<json, json, std::string>> refused = {
      {missing, hdp_eval_spec(), "hdp: missing: a method with HDP says what it pruned"},
      {stray, job_spec("eval"), "hdp: 'pomt:58' has no HDP to count"},
      {share, hdp_eval_spec(), "hdp.heads_pruned_share: is not heads_pruned / heads"},
      {more, hdp_eval_spec(), "hdp.blocks_pruned: more than blocks"},
      {unknown, hdp_eval_spec(), "hdp.rows_pruned: unknown field"},
      {negative, hdp_eval_spec(), "hdp.attention_macs_skipped"},
  };
  for (const auto& [body, spec, message] : refused) {
    try {
      submit("eval", body, spec);
      ADD_FAILURE() << "accepted: " << message;
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr(message));
    }
  }
  EXPECT_EQ(count("SELECT count(*) FROM evaluations"), 0);
}

TEST_F(ResultsTest, AnHdpLatencyPointIsInTheHdpLatencyView) {
  json body = profile_body();
  body["points"][0]["method"] = "none";
  body["points"][1]["method"] = kSetting;
  body["points"][1]["tokens"] = 197;
  body["points"][1]["hdp"] = hdp_object();
  json spec = job_spec("latency");
  spec["methods"] = {"none", kSetting};
  ASSERT_EQ(submit("latency", body, spec), SubmitOutcome::accepted);
  auto row = store().database().prepare(
      "SELECT device, method, median_ms, heads_pruned_share, attention_macs_skipped_share "
      "FROM hdp_latency_view");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_text(0), "cpu-1");
  EXPECT_EQ(row.column_text(1), kSetting);
  EXPECT_DOUBLE_EQ(row.column_double(2), 11.5);
  EXPECT_DOUBLE_EQ(row.column_double(3), 0.125);
  EXPECT_DOUBLE_EQ(row.column_double(4), 0.4);
  EXPECT_FALSE(row.step());

  // HDP counts on a curve point, or missing from an HDP latency point.
  json curve = profile_body();
  curve["points"][0]["hdp"] = hdp_object();
  EXPECT_THROW(submit("profile", curve), InputError);
  body["points"][1].erase("hdp");
  EXPECT_THROW(submit("latency", body, spec), InputError);
  EXPECT_EQ(count("SELECT count(*) FROM method_latency"), 2);
}

}  // namespace
}  // namespace tailsweep::store
