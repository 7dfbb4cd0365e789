#include "coordinator/report/number_text.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

namespace tailsweep::report {

int decimals_for_uncertainty(double half_width, int max_decimals) {
  if (!std::isfinite(half_width) || half_width <= 0) return max_decimals;
  int exponent = static_cast<int>(std::floor(std::log10(half_width)));
  const double leading = half_width / std::pow(10.0, exponent - 2);  // in [100, 1000)
  int significant = leading < 355 ? 2 : 1;
  if (leading >= 950) {  // rounds up to 1000: one more order, two digits
    ++exponent;
    significant = 2;
  }
  return std::clamp(significant - 1 - exponent, 0, max_decimals);
}

std::string significant_text(double value, int digits) {
  if (!std::isfinite(value) || value == 0) return fmt::format("{}", value);
  int exponent = static_cast<int>(std::floor(std::log10(std::abs(value))));
  // Rounding can carry into the next power of ten (9.996 -> 10.0): the
  // exponent is the rounded value's.
  const double unit = std::pow(10.0, exponent - digits + 1);
  const double rounded = std::round(value / unit) * unit;
  if (std::abs(rounded) >= std::pow(10.0, exponent + 1)) ++exponent;
  if (digits - 1 - exponent >= 0) {
    return fmt::format("{:.{}f}", rounded, digits - 1 - exponent);
  }
  // Past the decimal point: 1234.4 to three digits is 1230.
  const double step = std::pow(10.0, exponent - digits + 1);
  return fmt::format("{:.0f}", std::round(value / step) * step);
}

std::string signed_text(double value, int decimals) {
  // A value that rounds to zero is +0, never -0.
  const double half_unit = 0.5 * std::pow(10.0, -decimals);
  return fmt::format("{:+.{}f}", std::abs(value) < half_unit ? 0.0 : value, decimals);
}

std::string latency_ms_text(double ms) { return significant_text(ms, 3); }

std::optional<double> ratio_ci_half_width_percent(double ratio, const std::optional<double>& low,
                                                  const std::optional<double>& high) {
  if (!low || !high) return std::nullopt;
  return 100 * std::max(ratio - *low, *high - ratio);
}

std::string ratio_change_text(double ratio, const std::optional<double>& low,
                              const std::optional<double>& high) {
  const std::optional<double> half_width = ratio_ci_half_width_percent(ratio, low, high);
  if (!half_width) return fmt::format("{}%, no CI", signed_text(100 * (ratio - 1), 1));
  const int decimals = decimals_for_uncertainty(*half_width, 2);
  return fmt::format("{}% ±{:.{}f}", signed_text(100 * (ratio - 1), decimals), *half_width,
                     decimals);
}

std::string csv_number(const std::optional<double>& value) {
  return value ? fmt::format("{:.10g}", *value) : std::string();
}

}  // namespace tailsweep::report
