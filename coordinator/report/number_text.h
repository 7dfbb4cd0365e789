#pragma once
// Numbers as the tables show them, rounded to their precision, so that no
// digit claims more than the measurement knows. Pure.
#include <optional>
#include <string>

namespace tailsweep::report {

// The decimals that show a quantity with a 95% interval of this half-width,
// by the Particle Data Group's rule: the half-width to two significant
// digits when its three leading digits read 100-354, to one when 355-949,
// and 950-999 rounds up to 1000 with two (±0.12, ±0.4, ±1.0, ±14 -> 0
// decimals). Clamped to [0, max_decimals]; max_decimals for a half-width
// that is zero or not finite.
int decimals_for_uncertainty(double half_width, int max_decimals = 3);

// A value to `digits` significant digits in fixed notation, trailing zeros
// kept (0.120 stays "0.120"; 9.996 is "10.0"; 1234.4 is "1230").
std::string significant_text(double value, int digits);

// "+1.7", "-0.8", and "+0.0" for a value that rounds to zero (never "-0.0").
std::string signed_text(double value, int decimals);

// A latency in ms to three significant digits ("5.59", "23.5", "0.642",
// "1250"): each point is measured to a 1-3% precision, so a fourth digit
// would be noise.
std::string latency_ms_text(double ms);

// "-1.7% ±1.2", "-22% ±7", "+0.4% ±0.5": a paired ratio's change in percent
// with its 95% CI as one half-width (the wider side), both to the CI's
// precision; "-15.2%, no CI" without both bounds.
std::string ratio_change_text(double ratio, const std::optional<double>& low,
                              const std::optional<double>& high);
// The half-width in percentage points (the wider side); nullopt without both.
std::optional<double> ratio_ci_half_width_percent(double ratio, const std::optional<double>& low,
                                                  const std::optional<double>& high);

// A number for a CSV cell: 10 significant digits, no padding ("" for none).
std::string csv_number(const std::optional<double>& value);

}  // namespace tailsweep::report
