#pragma once
// `tailsweep compare`: two sweeps side by side, relative to the first (as
// google benchmark's compare.py and hyperfine's relative output do), saying
// which differences lie beyond their confidence intervals (docs/report.md,
// "Comparing two sweeps"). Pure: tables from two loaded sweeps.
#include <optional>
#include <vector>

#include "coordinator/report/report_data.h"
#include "coordinator/report/report_tables.h"

namespace tailsweep::report {

// Two 95% intervals that do not overlap: a difference beyond both CIs (a
// conservative test: such intervals mean p < 0.01 or so). nullopt when
// either interval is missing.
std::optional<bool> beyond_intervals(std::optional<double> a_low, std::optional<double> a_high,
                                     std::optional<double> b_low, std::optional<double> b_high);

// One row per latency curve in both sweeps (device, model, batch): the
// points in both, how many moved beyond their CIs, and the median and the
// largest change of B against A.
Table compare_curves_table(const ReportData& a, const ReportData& b);

// One row per (device, model, batch, method) timed in both: the medians and
// their change, and the paired ratios to none with whether they agree.
Table compare_latency_table(const ReportData& a, const ReportData& b);

// One row per (model, dataset, split, method) evaluated in both: top-1 and
// its change, with McNemar's p when both kept the same images' results.
Table compare_accuracy_table(const ReportData& a, const ReportData& b);

// The three tables, each only when it has rows.
std::vector<Table> compare_tables(const ReportData& a, const ReportData& b);

}  // namespace tailsweep::report
