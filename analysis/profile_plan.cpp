#include "analysis/profile_plan.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "common/util/errors.h"
#include "common/util/parse.h"

namespace tailsweep {
namespace {

int64_t parse_int(std::string_view whole, std::string_view digits, std::string_view what) {
  const auto value = parse_integer(digits);
  if (!value) {
    throw InputError(fmt::format("{} '{}': '{}' is not an integer", what, whole, digits));
  }
  return *value;
}

}  // namespace

std::vector<int64_t> parse_token_grid(std::string_view text, int64_t max_tokens) {
  constexpr std::string_view kWhat = "--tokens";
  std::vector<int64_t> grid;
  if (text.find(':') != std::string_view::npos) {
    const auto parts = split(text, ':');
    if (parts.size() > 3) {
      throw InputError(fmt::format("--tokens '{}': expected FROM:TO[:STEP]", text));
    }
    const int64_t from = parse_int(text, parts[0], kWhat);
    const int64_t to = parse_int(text, parts[1], kWhat);
    const int64_t step = parts.size() == 3 ? parse_int(text, parts[2], kWhat) : 1;
    if (step < 1) throw InputError(fmt::format("--tokens '{}': step must be >= 1", text));
    if (from > to) throw InputError(fmt::format("--tokens '{}': FROM is above TO", text));
    for (int64_t n = from; n <= to; n += step) grid.push_back(n);
    if (grid.back() != to) grid.push_back(to);
  } else {
    for (const auto part : split(text, ',')) grid.push_back(parse_int(text, part, kWhat));
  }
  try {
    return checked_token_counts(std::move(grid), max_tokens);
  } catch (const InputError& error) {
    throw InputError(fmt::format("--tokens '{}': {}", text, error.what()));
  }
}

std::vector<int64_t> checked_token_counts(std::vector<int64_t> counts, int64_t max_tokens) {
  if (counts.empty()) throw InputError("the token grid is empty");
  for (const int64_t n : counts) {
    if (n < 2 || n > max_tokens) {
      throw InputError(fmt::format(
          "token count {} is outside 2..{} (CLS plus at least one patch, at most the model's "
          "tokens)",
          n, max_tokens));
    }
  }
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  return counts;
}

std::vector<int64_t> parse_batch_list(std::string_view text) {
  std::vector<int64_t> batches;
  for (const auto part : split(text, ',')) batches.push_back(parse_int(text, part, "--batch"));
  try {
    return checked_batches(std::move(batches));
  } catch (const InputError& error) {
    throw InputError(fmt::format("--batch '{}': {}", text, error.what()));
  }
}

std::vector<int64_t> checked_batches(std::vector<int64_t> batches) {
  if (batches.empty()) throw InputError("no batch size given");
  for (const int64_t batch : batches) {
    if (batch < 1) throw InputError(fmt::format("batch size {} is not >= 1", batch));
  }
  std::sort(batches.begin(), batches.end());
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  return batches;
}

namespace {

std::vector<ProfilePoint> shuffled(std::vector<ProfilePoint> points, uint64_t seed) {
  // Fisher-Yates with our own draws: std::shuffle's use of the engine is
  // implementation-defined, and the order must not depend on the library.
  std::mt19937_64 rng(seed);
  for (std::size_t i = points.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(points[i - 1], points[j]);
  }
  return points;
}

}  // namespace

std::vector<ProfilePoint> shuffled_points(std::span<const int64_t> batches,
                                          std::span<const int64_t> tokens, uint64_t seed) {
  std::vector<ProfilePoint> points;
  for (const int64_t batch : batches) {
    for (const int64_t n : tokens) points.push_back({batch, n});
  }
  return shuffled(std::move(points), seed);
}

std::vector<ProfilePoint> shuffled_method_points(std::span<const int64_t> batches,
                                                 std::size_t method_count, int64_t tokens_total,
                                                 uint64_t seed) {
  std::vector<ProfilePoint> points;
  for (const int64_t batch : batches) {
    for (std::size_t m = 0; m < method_count; ++m) {
      points.push_back({batch, tokens_total, static_cast<int>(m)});
    }
  }
  return shuffled(std::move(points), seed);
}

StopReason should_stop(std::span<const double> samples_ms, std::chrono::duration<double> elapsed,
                       const StoppingRule& rule) {
  const bool at_cap = elapsed >= rule.time_cap;
  if (rule.fixed_time && !at_cap) return StopReason::kContinue;
  if (samples_ms.size() >= std::max<std::size_t>(rule.min_samples, 6)) {
    const stats::Summary summary = stats::summarize(samples_ms);
    if (summary.median_ci_relative_half_width <= rule.precision) {
      return StopReason::kPrecisionReached;
    }
  }
  return at_cap ? StopReason::kTimeCap : StopReason::kContinue;
}

}  // namespace tailsweep
