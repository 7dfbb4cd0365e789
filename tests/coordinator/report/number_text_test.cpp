// Numbers rounded to their precision (the Particle Data Group's rule).
#include "coordinator/report/number_text.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace tailsweep::report {
namespace {

TEST(DecimalsForUncertainty, FollowsTheParticleDataGroupsRule) {
  EXPECT_EQ(decimals_for_uncertainty(1.2), 1);     // 120: two digits, ±1.2
  EXPECT_EQ(decimals_for_uncertainty(3.54), 1);    // 354: still two, ±3.5
  EXPECT_EQ(decimals_for_uncertainty(3.55), 0);    // 355: one, ±4
  EXPECT_EQ(decimals_for_uncertainty(6.8), 0);     // ±7
  EXPECT_EQ(decimals_for_uncertainty(0.5), 1);     // ±0.5
  EXPECT_EQ(decimals_for_uncertainty(0.12), 2);    // ±0.12
  EXPECT_EQ(decimals_for_uncertainty(0.96), 1);    // 960 rounds up to 1000: ±1.0
  EXPECT_EQ(decimals_for_uncertainty(14), 0);      // ±14
  EXPECT_EQ(decimals_for_uncertainty(0.0001), 3);  // clamped
  EXPECT_EQ(decimals_for_uncertainty(0.0001, 2), 2);
  EXPECT_EQ(decimals_for_uncertainty(0), 3);
  EXPECT_EQ(decimals_for_uncertainty(std::numeric_limits<double>::quiet_NaN(), 1), 1);
}

TEST(LatencyMsText, ThreeSignificantDigits) {
  EXPECT_EQ(latency_ms_text(5.594), "5.59");
  EXPECT_EQ(latency_ms_text(23.51), "23.5");
  EXPECT_EQ(latency_ms_text(0.64216), "0.642");
  EXPECT_EQ(latency_ms_text(1249.6), "1250");
  EXPECT_EQ(latency_ms_text(1234.4), "1230");
  EXPECT_EQ(latency_ms_text(9.996), "10.0");  // the rounding carries: still three digits
  EXPECT_EQ(latency_ms_text(99.97), "100");
  EXPECT_EQ(latency_ms_text(0), "0");
}

TEST(SignedText, NeverMinusZero) {
  EXPECT_EQ(signed_text(-0.04, 1), "+0.0");
  EXPECT_EQ(signed_text(-0.06, 1), "-0.1");
  EXPECT_EQ(signed_text(1.25, 0), "+1");
  EXPECT_EQ(ratio_change_text(0.9996, 0.995, 1.004), "+0.0% ±0.5");
}

TEST(RatioChangeText, TheChangeAndItsIntervalShareTheIntervalsPrecision) {
  EXPECT_EQ(ratio_change_text(0.983, 0.972, 0.995), "-1.7% ±1.2");
  EXPECT_EQ(ratio_change_text(0.784, 0.72, 0.80), "-22% ±6");
  EXPECT_EQ(ratio_change_text(1.004, 1.0, 1.009), "+0.4% ±0.5");
  EXPECT_EQ(ratio_change_text(0.848, std::nullopt, std::nullopt), "-15.2%, no CI");
  EXPECT_DOUBLE_EQ(*ratio_ci_half_width_percent(0.848, 0.84, 0.851), 100 * (0.848 - 0.84));
  EXPECT_FALSE(ratio_ci_half_width_percent(0.848, 0.84, std::nullopt));
}

TEST(CsvNumber, TenSignificantDigitsOrNothing) {
  EXPECT_EQ(csv_number(10.05), "10.05");
  EXPECT_EQ(csv_number(1.0 / 3), "0.3333333333");
  EXPECT_EQ(csv_number(std::nullopt), "");
}

}  // namespace
}  // namespace tailsweep::report
