#include "bench/load/synthetic_profile.h"

#include <cmath>
#include <vector>

#include "analysis/profile_plan.h"
#include "analysis/statistics.h"
#include "common/model/model_config.h"
#include "common/wire/protocol.h"
#include "tailsweep/build_info.h"

namespace tailsweep::loadgen {
namespace {

using nlohmann::json;

constexpr const char* kNote =
    "tailsweep-loadgen: synthetic numbers posted to load the coordinator; no model ran, "
    "this is load, not measurement";

// A staircase in the token count (waves of 64 tokens), so the stored curve
// at least looks like the kind of data the coordinator handles; the small
// per-sample offsets make the statistics non-degenerate.
std::vector<double> synthetic_samples_ms(int64_t batch, int64_t tokens, int count) {
  const double waves = std::ceil(static_cast<double>(tokens) / 64.0);
  const double base_ms = 1.0 + 0.5 * waves * static_cast<double>(batch);
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) samples.push_back(base_ms * (1.0 + 0.001 * i));
  return samples;
}

json point_json(int64_t batch, int64_t tokens, int samples_per_point) {
  const std::vector<double> raw_ms = synthetic_samples_ms(batch, tokens, samples_per_point);
  const stats::Summary summary = stats::summarize(raw_ms);
  json point = {{"batch", batch},
                {"tokens", tokens},
                {"median_ms", summary.median},
                {"p5_ms", summary.p5},
                {"p25_ms", summary.p25},
                {"p75_ms", summary.p75},
                {"p95_ms", summary.p95},
                {"mean_ms", summary.mean},
                {"stddev_ms", summary.stddev},
                {"mad_ms", summary.mad},
                {"samples", summary.count},
                {"stable", summary.stable},
                {"reached_precision", false},
                {"power", nullptr},
                {"raw_ms", raw_ms}};
  if (summary.has_median_ci) {
    point["median_ci95_low_ms"] = summary.median_ci_low;
    point["median_ci95_high_ms"] = summary.median_ci_high;
  }
  return point;
}

}  // namespace

json loadgen_device_facts() {
  return {{"kind", "sim"},
          {"name", "loadgen (simulated, no model)"},
          {"simulated", true},
          {"note", kNote}};
}

json synthetic_profile_result(const json& spec_json, int samples_per_point) {
  const protocol::ProfileJobSpec spec = protocol::parse_profile_job_spec(spec_json);
  const VitConfig config = parse_model_spec(spec.model);
  const std::vector<int64_t> tokens = parse_token_grid(spec.tokens, config.total_tokens());
  json points = json::array();
  for (const int64_t batch : spec.batches) {
    for (const int64_t count : tokens)
      points.push_back(point_json(batch, count, samples_per_point));
  }
  return {
      {"tool", "tailsweep-loadgen"},
      {"note", kNote},
      {"version", build_info::kVersion},
      {"git_sha", build_info::kGitSha},
      {"model", {{"name", spec.model}}},
      {"mode", spec.mode},
      {"power", {{"available", false}, {"reason", "simulated load agent: no sensor, no model"}}},
      {"device", loadgen_device_facts()},
      {"points", std::move(points)}};
}

}  // namespace tailsweep::loadgen
