#include "analysis/rounds.h"

#include <algorithm>
#include <array>
#include <random>

#include "analysis/statistics.h"

namespace tailsweep {

bool slice_done(std::size_t samples, std::chrono::duration<double> sampled,
                const RoundsRule& rule) {
  return samples >= std::max<std::size_t>(rule.min_slice_samples, 1) && sampled >= rule.slice;
}

namespace {

std::size_t min_rounds(const RoundsRule& rule) { return std::max<std::size_t>(rule.min_rounds, 6); }

// The cap ends a point only once it has its minimum of rounds: a stall of
// the machine (samples of 300 ms where 20 were usual) could otherwise use a
// point's whole budget in two rounds and leave it with no interval and a
// median from the stall.
StopReason capped(std::size_t rounds, std::chrono::duration<double> sampled,
                  const RoundsRule& rule) {
  return sampled >= rule.time_cap && rounds >= min_rounds(rule) ? StopReason::kTimeCap
                                                                : StopReason::kContinue;
}

}  // namespace

StopReason rounds_stop(std::span<const double> round_medians_ms,
                       std::chrono::duration<double> sampled, const RoundsRule& rule) {
  if (round_medians_ms.size() >= min_rounds(rule)) {
    const stats::Summary summary = stats::summarize(round_medians_ms);
    if (summary.median_ci_relative_half_width <= rule.precision) {
      return StopReason::kPrecisionReached;
    }
  }
  return capped(round_medians_ms.size(), sampled, rule);
}

std::vector<std::size_t> round_visits(const std::vector<bool>& active, const std::vector<bool>& reference,
                                      uint64_t seed, std::size_t round) {
  std::vector<std::size_t> visits;
  bool any_measured = false;
  for (std::size_t i = 0; i < active.size(); ++i) {
    const bool is_reference = i < reference.size() && reference[i];
    if (active[i] && !is_reference) any_measured = true;
    if (active[i] || is_reference) visits.push_back(i);
  }
  if (!any_measured) return {};
  // Fisher-Yates with our own draws (std::shuffle's use of the engine is
  // implementation-defined); the round number enters the seed so each round
  // has its own order.
  std::mt19937_64 rng(seed ^ (0x9e3779b97f4a7c15ULL * (round + 1)));
  for (std::size_t i = visits.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(visits[i - 1], visits[j]);
  }
  return visits;
}

std::vector<double> per_round_medians(std::span<const RoundMedian> slices) {
  std::vector<double> medians;
  std::vector<double> round;
  for (std::size_t i = 0; i < slices.size(); ++i) {
    round.push_back(slices[i].median_ms);
    if (i + 1 == slices.size() || slices[i + 1].round != slices[i].round) {
      medians.push_back(stats::summarize(round).median);
      round.clear();
    }
  }
  return medians;
}

std::vector<std::size_t> bracket_with_references(
    std::span<const std::size_t> points, std::span<const std::optional<std::size_t>> reference_of,
    std::size_t every) {
  every = std::max<std::size_t>(every, 1);
  std::vector<std::size_t> references;  // in order of first appearance
  for (const std::size_t p : points) {
    const std::optional<std::size_t>& r = reference_of[p];
    if (r && std::find(references.begin(), references.end(), *r) == references.end()) {
      references.push_back(*r);
    }
  }
  std::vector<std::size_t> order(references.begin(), references.end());
  std::vector<std::size_t> since(references.size(), 0);  // points since the reference's last slice
  for (const std::size_t p : points) {
    order.push_back(p);
    const std::optional<std::size_t>& r = reference_of[p];
    if (!r) continue;
    const std::size_t k = static_cast<std::size_t>(
        std::find(references.begin(), references.end(), *r) - references.begin());
    if (++since[k] == every) {
      order.push_back(*r);
      since[k] = 0;
    }
  }
  for (std::size_t k = 0; k < references.size(); ++k) {
    if (since[k] > 0) order.push_back(references[k]);
  }
  return order;
}

std::optional<PairedRatio> paired_ratio(std::span<const RoundMedian> point,
                                        std::span<const RoundMedian> baseline) {
  std::vector<double> ratios;
  for (const RoundMedian& p : point) {
    const RoundMedian* before = nullptr;
    const RoundMedian* after = nullptr;
    for (const RoundMedian& b : baseline) {
      if (b.round != p.round) continue;
      if (b.sequence <= p.sequence && (before == nullptr || b.sequence > before->sequence)) {
        before = &b;
      }
      if (b.sequence > p.sequence && (after == nullptr || b.sequence < after->sequence)) {
        after = &b;
      }
    }
    if (before == nullptr && after == nullptr) continue;
    const double reference_ms = before != nullptr && after != nullptr
                                    ? (before->median_ms + after->median_ms) / 2
                                : before != nullptr ? before->median_ms
                                                    : after->median_ms;
    if (reference_ms > 0) ratios.push_back(p.median_ms / reference_ms);
  }
  if (ratios.empty()) return std::nullopt;
  const stats::Summary summary = stats::summarize(ratios);
  PairedRatio ratio;
  ratio.median = summary.median;
  ratio.rounds = ratios.size();
  if (summary.has_median_ci) {
    ratio.ci95_low = summary.median_ci_low;
    ratio.ci95_high = summary.median_ci_high;
  }
  return ratio;
}

StopReason paired_stop(std::span<const RoundMedian> point, std::span<const RoundMedian> baseline,
                       std::chrono::duration<double> sampled, const RoundsRule& rule) {
  const std::optional<PairedRatio> ratio = paired_ratio(point, baseline);
  if (ratio && ratio->rounds >= min_rounds(rule) && ratio->ci95_low && ratio->ci95_high &&
      ratio->median > 0) {
    const double half =
        std::max(ratio->median - *ratio->ci95_low, *ratio->ci95_high - ratio->median);
    if (half <= rule.precision * ratio->median) return StopReason::kPrecisionReached;
  }
  return capped(ratio ? ratio->rounds : 0, sampled, rule);
}

Drift sentinel_drift(std::span<const double> round_medians_ms, double precision) {
  Drift drift;
  drift.rounds = round_medians_ms.size();
  if (round_medians_ms.empty()) return drift;
  std::vector<double> smoothed;
  if (round_medians_ms.size() < 3) {
    smoothed.assign(round_medians_ms.begin(), round_medians_ms.end());
  } else {
    for (std::size_t i = 1; i + 1 < round_medians_ms.size(); ++i) {
      std::array<double, 3> window{round_medians_ms[i - 1], round_medians_ms[i],
                                   round_medians_ms[i + 1]};
      std::sort(window.begin(), window.end());
      smoothed.push_back(window[1]);
    }
  }
  const auto [low, high] = std::minmax_element(smoothed.begin(), smoothed.end());
  drift.max_over_min = *low > 0 ? *high / *low : 1.0;
  drift.exceeds_precision = drift.max_over_min > 1.0 + precision;
  return drift;
}

}  // namespace tailsweep
