#pragma once
// What `tailsweep-agent profile` measures and when it stops, as pure
// functions: the token grid and batch list parsed strictly, the visiting
// order shuffled with a seed, and the adaptive stopping rule.
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/statistics.h"
#include "common/model/model_config.h"

namespace tailsweep {

// "2:197" (every count), "2:197:5" (every fifth, 197 always included so the
// unpruned point is measured) or "2,50,100". Counts include CLS. Throws
// InputError on malformed text, counts below 2 or above max_tokens.
std::vector<int64_t> parse_token_grid(std::string_view text, int64_t max_tokens);
// "1" or "1,4,8"; every batch >= 1.
std::vector<int64_t> parse_batch_list(std::string_view text);
// The same rules for values that arrive typed (a job spec, a request):
// sorted, each once; InputError for a count outside 2..max_tokens, a batch
// below 1, or nothing at all.
std::vector<int64_t> checked_token_counts(std::vector<int64_t> counts, int64_t max_tokens);
std::vector<int64_t> checked_batches(std::vector<int64_t> batches);

struct ProfilePoint {
  int64_t batch = 1;
  int64_t tokens = 0;  // entering the first block
  int method = -1;     // an index into the request's methods; -1: random:tokens (a curve point)
};

// Every (batch, tokens) pair in a seeded random order, so slow drift of the
// machine (heat, clocks, neighbours) spreads over the curve instead of
// becoming a slope along it.
std::vector<ProfilePoint> shuffled_points(std::span<const int64_t> batches,
                                          std::span<const int64_t> tokens, uint64_t seed);
// Every (batch, method) pair on the full `tokens_total` input, in a seeded
// random order: the latency of whole configurations rather than of a curve.
std::vector<ProfilePoint> shuffled_method_points(std::span<const int64_t> batches,
                                                 std::size_t method_count, int64_t tokens_total,
                                                 uint64_t seed);

struct StoppingRule {
  double precision = 0.01;  // target relative half-width of the median's 95% CI
  std::size_t min_samples = 10;
  std::chrono::duration<double> time_cap{10.0};  // per point
  // POMT's protocol, kept for comparison: sample for exactly time_cap,
  // whatever the spread, then report whether the precision was reached.
  bool fixed_time = false;
};

enum class StopReason { kContinue, kPrecisionReached, kTimeCap };

// kPrecisionReached once there are at least min_samples and the 95% CI of
// the median is within precision of it; kTimeCap when the point has used its
// time (the result is then flagged as not having reached the precision).
// With fixed_time, nothing stops before the cap; at the cap the answer is
// kPrecisionReached or kTimeCap as above. Cheap until a summary is needed.
StopReason should_stop(std::span<const double> samples_ms, std::chrono::duration<double> elapsed,
                       const StoppingRule& rule);

}  // namespace tailsweep
