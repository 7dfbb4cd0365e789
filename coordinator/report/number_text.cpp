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
  const int exponent = static_cast<int>(std::floor(std::log10(std::abs(value))));
  return fmt::format("{:.{}f}", value, std::max(0, digits - 1 - exponent));
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
  if (!half_width) return fmt::format("{:+.1f}%, no CI", 100 * (ratio - 1));
  const int decimals = decimals_for_uncertainty(*half_width, 2);
  return fmt::format("{:+.{}f}% ±{:.{}f}", 100 * (ratio - 1), decimals, *half_width, decimals);
}

std::string csv_number(const std::optional<double>& value) {
  return value ? fmt::format("{:.10g}", *value) : std::string();
}

}  // namespace tailsweep::report
