#pragma once
// Hybrid Dynamic Pruning in the report (docs/hdp.md): its table, and two
// figures that put it on the same axes as POMT, Top-K and ToMe. Pure
// functions over ReportData, like the rest of the report.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/report/method_plots.h"
#include "coordinator/report/report_data.h"
#include "coordinator/report/report_plots.h"
#include "coordinator/report/report_tables.h"

namespace tailsweep::report {

// The share of the unpruned model's attention multiply-accumulates that an
// evaluated method skipped: its token counts' (attention_work_share), and
// with HDP the engine's count of what it skipped on top of them. Null for
// a model this build does not know.
std::optional<double> attention_work_skipped(const EvaluationRow& row);

// Per model: every evaluation with HDP (alone and composed), its top-1
// change against none, the heads and blocks it pruned, the attention work
// skipped, and its paired latency change on each device that timed it.
Table hdp_table(const std::vector<AccuracyRow>& rows,
                const std::vector<MethodLatencyRow>& latencies);

// Top-1 against the attention work skipped, one series per method family,
// on the model's first dataset and split.
NamedPlot accuracy_vs_attention_plot(const std::string& model,
                                     const std::vector<EvaluationRow>& evaluations);

// The HDP figures of a report: for every model with an HDP evaluation, the
// attention plot (the paired-latency plots are every sweep's: method_plots.h).
std::vector<NamedPlot> hdp_plots(const ReportData& data);

}  // namespace tailsweep::report
