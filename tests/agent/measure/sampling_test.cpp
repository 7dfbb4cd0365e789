// The one timing loop (measure/sampling.h) with samplers whose answers are
// known: it stops at the precision, at the cap, or when interrupted.
#include "agent/measure/sampling.h"

#include <atomic>
#include <chrono>

#include <gtest/gtest.h>

namespace tailsweep::agent {
namespace {

using Seconds = std::chrono::duration<double>;

TEST(SampleUntilStop, ASteadySamplerStopsAtThePrecisionAfterTheMinimum) {
  const StoppingRule rule{0.01, 10, Seconds(10), false};
  int calls = 0;
  const auto sampled = sample_until_stop([&] { return ++calls, 5.0; }, rule);
  ASSERT_TRUE(sampled);
  EXPECT_EQ(sampled->stop, StopReason::kPrecisionReached);
  EXPECT_EQ(sampled->samples_ms.size(), 10u);
  EXPECT_EQ(calls, 10);
}

TEST(SampleUntilStop, TheCapCountsTheSampledTime) {
  // Alternating 1 and 9 ms never gets the median's CI within 0.1%; the cap
  // of 100 ms of sampled time ends it after 20 samples (5 ms each on average).
  const StoppingRule rule{0.001, 10, Seconds(0.1), false};
  int i = 0;
  const auto sampled = sample_until_stop([&] { return (i++ % 2 == 0) ? 1.0 : 9.0; }, rule);
  ASSERT_TRUE(sampled);
  EXPECT_EQ(sampled->stop, StopReason::kTimeCap);
  EXPECT_EQ(sampled->samples_ms.size(), 20u);
}

TEST(SampleUntilStop, AnInterruptEndsItWithNothing) {
  std::atomic<bool> interrupt{false};
  const StoppingRule rule{0.001, 10, Seconds(10), false};
  int i = 0;
  const auto sampled = sample_until_stop(
      [&] {
        if (++i == 5) interrupt = true;
        return (i % 2 == 0) ? 1.0 : 9.0;
      },
      rule, &interrupt);
  EXPECT_FALSE(sampled);
  EXPECT_EQ(i, 5);
}

}  // namespace
}  // namespace tailsweep::agent
