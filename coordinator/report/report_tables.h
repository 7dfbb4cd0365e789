#pragma once
// The report's tables as plain rows of text, built by pure functions from
// ReportData; report_formats.h renders them as Markdown, CSV and LaTeX.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/latency_steps.h"
#include "analysis/proportions.h"
#include "coordinator/report/report_data.h"

namespace tailsweep::report {

// Columns and rows of text; each row as wide as columns, "" for no value.
struct Grid {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

struct Table {
  std::string file_stem;  // the CSV's name without ".csv"
  std::string title;
  std::vector<std::string> columns;  // as Markdown shows them (and CSV and LaTeX, by default)
  std::vector<std::vector<std::string>> rows;
  // The CSV's own grid where a shown cell holds several numbers ("5.59
  // (-1.7% ±1.2)"): one number per cell, unrounded, a column per quantity.
  std::optional<Grid> csv = std::nullopt;
  // LaTeX's own grid where the shown one is too wide for a paper's page.
  std::optional<Grid> latex = std::nullopt;
  std::string latex_note = {};  // a line under the LaTeX table (what a mark means)
};

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
// "88.7 [88.1, 89.3]": top-1 in percent with its Wilson 95% interval, to
// the interval's precision (number_text.h).
std::string top1_with_interval(const EvaluationRow& row);
// The decimals top-1 and its changes are shown with: its interval's (2
// without one).
int top1_decimals(const EvaluationRow& row);
// "-0.8": a change in points, with the decimals of `row`'s top-1.
std::string top1_change_text(double change_points, const EvaluationRow& row);

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
// L(n) as measured, then on its reference's scale (the curve steps and
// schedules are read from): `tailsweep schedule pomt --latency` reads these
// columns back, so they are defined here once.
inline constexpr std::array<std::string_view, 7> kLatencyCurveColumns = {
    "tokens",    "median_ms",          "median_ci95_low_ms", "median_ci95_high_ms",
    "paired_ms", "paired_ci95_low_ms", "paired_ci95_high_ms"};
Table latency_curve_table(const LatencyCurve& curve);
Table accuracy_curve_table(const AccuracyCurve& curve);

// Every table of the report, in the order the documents show them.
std::vector<Table> report_tables(const ReportData& data);

// A file-name-safe form of a device or model name: [A-Za-z0-9._-], others '_'.
std::string file_slug(std::string_view text);

}  // namespace tailsweep::report
