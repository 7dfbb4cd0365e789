#pragma once
// Percentiles of request latencies, for the load generator's report.
#include <vector>

#include <nlohmann/json.hpp>

namespace tailsweep::loadgen {

// {"count", "p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms"}; the figures
// are null when there are no samples.
nlohmann::json latency_summary_json(std::vector<double> samples_ms);

}  // namespace tailsweep::loadgen
