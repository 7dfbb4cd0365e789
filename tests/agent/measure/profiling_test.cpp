// run_profiling on a simulated device, where the numbers are the GPU
// model's: what the document says of points cut short.
#include "agent/measure/profiling.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tailsweep::agent {
namespace {

// In rounds the cap ends a point only after its minimum of rounds, so even
// a cap that one slice exceeds leaves every point with an interval (a stall
// of the machine must not leave a point with a median from the stall and no
// interval, as a 1.5 s cap once did in the main job).
TEST(Profiling, InRoundsEvenATinyCapLeavesEveryPointItsMinimumOfRounds) {
  ProfileRequest request;
  request.run.model = "deit-tiny";
  request.device = "sim:jetson-nano";  // about 19 ms a pass: one slice is past a 1 ms cap
  request.batches = {1};
  request.tokens = {2, 197};
  request.time_cap_s = 0.001;
  request.precision = 0.0001;  // out of reach: the cap ends it
  request.warmup_s = 0;
  const nlohmann::json document = run_profiling(request);
  ASSERT_EQ(document["points"].size(), 2u);
  for (const nlohmann::json& point : document["points"]) {
    // Six rounds, or seven when the point came before its reference in the
    // sixth (a paired point counts the rounds it shares with its reference).
    const int rounds = point["rounds"].get<int>();
    EXPECT_GE(rounds, 6) << point.dump();
    EXPECT_LE(rounds, 7);
    EXPECT_GE(point["samples"].get<int>(), 3 * rounds);  // slices of at least 3 samples
    EXPECT_EQ(point["reached_precision"], false);
    EXPECT_TRUE(point["median_ci95_low_ms"].is_number());
    EXPECT_GT(point["median_ms"].get<double>(), 0);
  }
}

// A point stopped by the cap after one sample has no interval: its bounds
// are null, never 0 (a zero-width "interval" at 0 ms once reached step
// detection).
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
      // A reference comes while its batch has points left; the sentinel in every round.
      if (point["batch"] == 4) {
        EXPECT_EQ(point["rounds"], rounds["count"]);
      } else {
        EXPECT_LE(point["rounds"].get<int>(), rounds["count"].get<int>());
      }
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
