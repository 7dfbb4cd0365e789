#pragma once
// Hybrid Dynamic Pruning in the report (docs/hdp.md): its table, and two
// figures that put it on the same axes as POMT, Top-K and ToMe. Pure
// functions over ReportData, like the rest of the report.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/report/report_data.h"
#include "coordinator/report/report_plots.h"
#include "coordinator/report/report_tables.h"

namespace tailsweep::report {

// none, pomt, topk, tome, random, hdp (HDP alone), pomt+hdp, ... ; "other"
// for a method this build cannot parse.
std::string method_family_name(const std::string& method);

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

// Top-1 against the paired latency change on one device and batch (each
// method's ratio to none in its latency job), one series per family.
NamedPlot accuracy_vs_paired_latency_plot(const std::string& model, const DeviceRef& device,
                                          int64_t batch,
                                          const std::vector<EvaluationRow>& evaluations,
                                          const std::vector<MethodLatencyRow>& latencies);

// The HDP figures of a report: for every model with an HDP evaluation, the
// attention plot and one paired-latency plot per device and batch that
// timed one of its methods.
std::vector<NamedPlot> hdp_plots(const ReportData& data);

}  // namespace tailsweep::report
