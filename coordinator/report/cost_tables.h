#pragma once
// What each method costs, beside what it saves: the tokens every block
// computes on and the GFLOPs per image (from the model's shape, no device),
// and the throughput each device reached at the largest batch it timed.
// Pure functions over ReportData, like report_tables.h.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/report/report_data.h"
#include "coordinator/report/report_tables.h"

namespace tailsweep::report {

// "197x3, 74x3": a block's token counts, runs of equal counts compressed.
std::string tokens_per_block_text(const std::vector<int64_t>& tokens);

// One row per model and method the sweep evaluated (and none): tokens per
// block, GFLOPs per image (GEMMs and the two attention products,
// VitConfig::forward_flops; what HDP skips is not counted) and the change
// against none. Methods this build cannot parse are left out.
struct CostRow {
  std::string model;
  std::string method;
  std::vector<int64_t> tokens_per_block;
  double mean_tokens_per_block = 0;
  double gflops_per_image = 0;
  double gflops_change_percent = 0;
};
std::vector<CostRow> cost_rows(const ReportData& data);
Table cost_table(const std::vector<CostRow>& rows);

// One row per device, model and method (evaluated, or none) at the largest
// batch the device timed the model at: images/s (from the latency on the paired scale) and
// the change against none as the paired ratio's inverse, with its CI.
struct ThroughputRow {
  DeviceRef device;
  std::string model;
  int64_t batch = 1;
  std::string method;
  double images_per_s = 0;
  // images/s over none's (the speedup): the paired latency ratio's inverse,
  // with its CI; null for none itself, or without a paired ratio.
  std::optional<double> speedup_vs_none, speedup_ci95_low, speedup_ci95_high;
};
std::vector<ThroughputRow> throughput_rows(const ReportData& data);
Table throughput_table(const std::vector<ThroughputRow>& rows);

}  // namespace tailsweep::report
