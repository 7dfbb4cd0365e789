// run_profiling on a simulated device, where the numbers are the GPU
// model's: what the document says of points cut short.
#include "agent/measure/profiling.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tailsweep::agent {
namespace {

// A point stopped by the cap after one sample has no interval: its bounds
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
    EXPECT_EQ(point["samples"], 1);
    EXPECT_EQ(point["reached_precision"], false);
    EXPECT_TRUE(point["median_ci95_low_ms"].is_null()) << point.dump();
    EXPECT_TRUE(point["median_ci95_high_ms"].is_null());
    EXPECT_TRUE(point["median_ci95_relative_half_width"].is_null());
    EXPECT_GT(point["median_ms"].get<double>(), 0);
  }
}

}  // namespace
}  // namespace tailsweep::agent
