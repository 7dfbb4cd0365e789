#include "bench/load/latency_summary.h"

#include <algorithm>
#include <numeric>

#include "analysis/statistics.h"

namespace tailsweep::loadgen {

nlohmann::json latency_summary_json(std::vector<double> samples_ms) {
  nlohmann::json out = {{"count", samples_ms.size()}};
  if (samples_ms.empty()) {
    for (const char* key : {"p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms"}) out[key] = nullptr;
    return out;
  }
  std::sort(samples_ms.begin(), samples_ms.end());
  out["p50_ms"] = stats::quantile_sorted(samples_ms, 0.50);
  out["p90_ms"] = stats::quantile_sorted(samples_ms, 0.90);
  out["p99_ms"] = stats::quantile_sorted(samples_ms, 0.99);
  out["max_ms"] = samples_ms.back();
  out["mean_ms"] = std::accumulate(samples_ms.begin(), samples_ms.end(), 0.0) /
                   static_cast<double>(samples_ms.size());
  return out;
}

}  // namespace tailsweep::loadgen
