#pragma once
// The report's tables as plain rows of text, built by pure functions from
// ReportData; report_formats.h renders them as Markdown, CSV and LaTeX.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/latency_steps.h"
#include "analysis/proportions.h"
#include "coordinator/report/report_data.h"

namespace tailsweep::report {

struct Table {
  std::string file_stem;  // the CSV's name without ".csv"
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // each as wide as columns; "" for no value
};

// " ±0.8": a paired ratio's 95% CI as one half-width (the wider side) in
// percent; "" without both bounds.
std::string ratio_ci_text(const std::optional<double>& ratio, const std::optional<double>& low,
                          const std::optional<double>& high);

// The paper's order: the unpruned baseline first, then POMT, Top-K, ToMe and
// anything else. method is a spec ("pomt:58"); its family is before the ':'.
int method_rank(std::string_view method);

// An evaluation with its change against the unpruned ('none') baseline of the
// same model, dataset and split. Latency changes only against a baseline
// measured on the same device: across devices they would compare hardware.
struct AccuracyRow {
  EvaluationRow evaluation;
  std::optional<double> top1_change_points;  // 100 * (top1 - baseline top1)
  // McNemar's exact p of the change, when both were evaluated on the same
  // images and kept which they got right.
  std::optional<double> top1_change_p;
  std::optional<double> top5_change_points;
  std::optional<double> latency_change_ms;
  std::optional<double> latency_change_percent;
};

// McNemar's exact p between two evaluations of the same images; nullopt
// when they were not on the same images or did not keep their per-image
// results.
std::optional<double> paired_top1_p(const EvaluationRow& a, const EvaluationRow& b);

// Top-1's Wilson 95% interval (fractions); nullopt without images.
std::optional<stats::Interval> top1_interval(const EvaluationRow& row);
// "88.72 [88.09, 89.33]": top-1 in percent with its Wilson 95% interval.
std::string top1_with_interval(const EvaluationRow& row);

// "0.003", "<0.001", "0.41 (within noise)": a p-value as the tables show it.
std::string p_value_text(std::optional<double> p);

// Sorted by model, dataset, split, method_rank, method, device.
std::vector<AccuracyRow> accuracy_rows(const std::vector<EvaluationRow>& evaluations);

// "128->129 (+11.0 ms), 64->65 (+5.2 ms)"; "none" when there is none.
std::string format_steps(const std::vector<schedule::LatencyStep>& steps);

// The saving the curve promises for a schedule: (depth - layer - 1/3) /
// depth of 1 - L(after pruning) / L(unpruned); null without the curve.
std::optional<double> promised_saving(const ScheduleEntry& entry);
// "all 40 reached precision", "3 of 40 short of precision, 1 unstable; n*
// short of precision !"; "" for a schedule from before 007_validity.
std::string curve_validity_text(const ScheduleEntry& entry);
Table schedule_table(const std::vector<ScheduleEntry>& schedules,
                     const std::vector<MethodLatencyRow>& latencies);
// "b1 -15.2% ±0.8, b4 -20.6% ±0.5": a method's paired ratios to "none" from
// the latency jobs on one device, per batch; "" without any.
std::string paired_change_text(const std::vector<MethodLatencyRow>& latencies,
                               const std::string& model, const std::string& method,
                               const std::string& device);
// paired_change_text on the evaluation's own device.
std::string latency_job_change(const std::vector<MethodLatencyRow>& latencies,
                               const EvaluationRow& evaluation);
Table accuracy_table(const std::vector<AccuracyRow>& rows,
                     const std::vector<MethodLatencyRow>& latencies);
Table measurement_table(const std::vector<MeasurementRow>& rows);
// Weight clustering in the paper's form: per model, dataset and K, top-1 and
// its change against the dense baseline, and the tensor bytes.
Table clustering_table(const std::vector<ClusteringRow>& rows);
Table latency_curve_table(const LatencyCurve& curve);
Table accuracy_curve_table(const AccuracyCurve& curve);

// Every table of the report, in the order the documents show them.
std::vector<Table> report_tables(const ReportData& data);

// A file-name-safe form of a device or model name: [A-Za-z0-9._-], others '_'.
std::string file_slug(std::string_view text);

}  // namespace tailsweep::report
