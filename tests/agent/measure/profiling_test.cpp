// run_profiling on a simulated device, where the numbers are the GPU
// model's: what the document says of points cut short.
#include "agent/measure/profiling.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tailsweep::agent {
namespace {

// A point stopped by the cap after one round has no interval: its bounds
// are null, never 0 (a zero-width "interval" at 0 ms once reached step
// detection).
TEST(Profiling, APointWithTooFewSamplesForAnIntervalHasNullBounds) {
  ProfileRequest request;
  request.run.model = "deit-tiny";
  request.device = "sim:jetson-nano";  // about 19 ms a pass, so a 1 ms cap allows one sample
  request.batches = {1};
  request.tokens = {2, 197};
  request.time_cap_s = 0.001;
  request.warmup_s = 0;
  const nlohmann::json document = run_profiling(request);
  ASSERT_EQ(document["points"].size(), 2u);
  for (const nlohmann::json& point : document["points"]) {
    // One round: one slice of the fewest samples a slice takes.
    EXPECT_EQ(point["samples"], 3);
    EXPECT_EQ(point["rounds"], 1);
    EXPECT_EQ(point["reached_precision"], false);
    EXPECT_TRUE(point["median_ci95_low_ms"].is_null()) << point.dump();
    EXPECT_TRUE(point["median_ci95_high_ms"].is_null());
    EXPECT_TRUE(point["median_ci95_relative_half_width"].is_null());
    EXPECT_GT(point["median_ms"].get<double>(), 0);
  }
}

TEST(Profiling, InBlocksAPointCutAfterOneSampleHasNullBoundsToo) {
  ProfileRequest request;
  request.run.model = "deit-tiny";
  request.device = "sim:jetson-nano";
  request.batches = {1};
  request.tokens = {2, 197};
  request.protocol = "blocks";
  request.time_cap_s = 0.001;
  request.warmup_s = 0;
  const nlohmann::json document = run_profiling(request);
  ASSERT_EQ(document["points"].size(), 2u);
  EXPECT_TRUE(document["rounds"].is_null());
  for (const nlohmann::json& point : document["points"]) {
    EXPECT_EQ(point["samples"], 1);
    EXPECT_TRUE(point["median_ci95_low_ms"].is_null());
    EXPECT_TRUE(point["ratio"].is_null());
  }
}

// The document of a rounds run on a simulated device: the sentinel is the
// batch's all-token point, measured in every round; every other point
// carries its ratio to it; each raw sample its round.
TEST(Profiling, ARoundsDocumentPairsEachPointWithItsBatchsReference) {
  ProfileRequest request;
  request.run.model = "deit-tiny";
  request.device = "sim:jetson-orin-nano";
  request.batches = {1, 4};
  request.tokens = {50, 100, 197};
  request.precision = 0.02;
  request.warmup_s = 0;
  const nlohmann::json document = run_profiling(request);
  EXPECT_EQ(document["schema_version"], 2);
  const nlohmann::json& rounds = document["rounds"];
  ASSERT_TRUE(rounds.is_object());
  EXPECT_EQ(rounds["sentinel"], (nlohmann::json{{"batch", 4}, {"tokens", 197}}));
  EXPECT_EQ(rounds["rounds"].size(), rounds["count"].get<std::size_t>());
  EXPECT_GE(rounds["count"].get<int>(), 6);
  for (const nlohmann::json& round : rounds["rounds"]) {
    EXPECT_TRUE(round["sentinel_median_ms"].is_number()) << round.dump();
  }
  ASSERT_EQ(document["points"].size(), 6u);
  for (const nlohmann::json& point : document["points"]) {
    EXPECT_EQ(point["raw_round"].size(), point["raw_ms"].size());
    if (point["tokens"] == 197) {
      EXPECT_TRUE(point["ratio"].is_null());
      EXPECT_EQ(point["rounds"], rounds["count"]);  // the references: every round
      continue;
    }
    const nlohmann::json& ratio = point["ratio"];
    ASSERT_TRUE(ratio.is_object()) << point.dump();
    EXPECT_EQ(ratio["to"], (nlohmann::json{{"batch", point["batch"]}, {"tokens", 197}}));
    EXPECT_LT(ratio["median"].get<double>(), 1.0);  // fewer tokens, less time
    EXPECT_LE(ratio["ci95_low"].get<double>(), ratio["median"].get<double>());
    EXPECT_EQ(point["precision_of"], "ratio");
    EXPECT_EQ(point["reached_precision"], true);
  }
}

}  // namespace
}  // namespace tailsweep::agent
