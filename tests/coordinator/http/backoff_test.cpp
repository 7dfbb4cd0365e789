// backoff_delay from common/http_client.h: exponential growth, capped, with
// full jitter drawn from the caller's random bits.
#include <limits>

#include <gtest/gtest.h>

#include "common/util/http_client.h"

namespace tailsweep {
namespace {

using std::chrono::milliseconds;

constexpr uint64_t kMaxBits = std::numeric_limits<uint64_t>::max();

TEST(BackoffDelay, CeilingDoublesPerAttemptUntilTheCap) {
  const milliseconds base{100};
  const milliseconds cap{5000};
  // random_bits % (ceiling + 1) with bits = ceiling gives the ceiling itself.
  EXPECT_EQ(backoff_delay(0, base, cap, 100), milliseconds(100));
  EXPECT_EQ(backoff_delay(1, base, cap, 200), milliseconds(200));
  EXPECT_EQ(backoff_delay(3, base, cap, 800), milliseconds(800));
  EXPECT_EQ(backoff_delay(6, base, cap, 5000), milliseconds(5000));  // 6400 capped
  EXPECT_EQ(backoff_delay(1000, base, cap, 5000), milliseconds(5000));
}

TEST(BackoffDelay, FullJitterSpansZeroToTheCeiling) {
  const milliseconds base{100};
  const milliseconds cap{5000};
  EXPECT_EQ(backoff_delay(3, base, cap, 0), milliseconds(0));
  EXPECT_EQ(backoff_delay(3, base, cap, 801), milliseconds(0));  // wraps: uniform over 0..800
  for (uint64_t bits : {uint64_t{1}, uint64_t{12345}, uint64_t{987654321}, kMaxBits}) {
    for (int attempt = 0; attempt < 70; ++attempt) {
      const milliseconds delay = backoff_delay(attempt, base, cap, bits);
      EXPECT_GE(delay.count(), 0);
      EXPECT_LE(delay, cap);
    }
  }
}

TEST(BackoffDelay, DegenerateInputsGiveNoDelayOrStayInRange) {
  EXPECT_EQ(backoff_delay(3, milliseconds(0), milliseconds(1000), kMaxBits), milliseconds(0));
  EXPECT_EQ(backoff_delay(3, milliseconds(100), milliseconds(0), kMaxBits), milliseconds(0));
  EXPECT_LE(backoff_delay(-5, milliseconds(100), milliseconds(1000), kMaxBits), milliseconds(100));
  // A base above the cap is capped.
  EXPECT_LE(backoff_delay(0, milliseconds(10'000), milliseconds(1000), kMaxBits),
            milliseconds(1000));
  // Huge caps do not overflow.
  const milliseconds huge{std::numeric_limits<int64_t>::max() / 2};
  EXPECT_GE(backoff_delay(200, milliseconds(1), huge, kMaxBits).count(), 0);
}

}  // namespace
}  // namespace tailsweep
