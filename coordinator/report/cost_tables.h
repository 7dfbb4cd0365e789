#pragma once
// What each method costs, beside what it saves: the tokens every block
// computes on and the GFLOPs per image (from the model's shape, no device),
// and the throughput each device reached at the largest batch it timed.
// Pure functions over ReportData, like report_tables.h.
#include <cstdint>
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
Table cost_table(const ReportData& data);

// One row per device, model and method (evaluated, or none) at the largest
// batch the device timed the model at: images/s (from the latency on the paired scale) and
// the change against none as the paired ratio's inverse, with its CI.
Table throughput_table(const ReportData& data);

}  // namespace tailsweep::report
