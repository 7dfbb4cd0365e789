#include "coordinator/report/compare_tables.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/core.h>

#include "coordinator/report/number_text.h"

namespace tailsweep::report {
namespace {

std::string percent_change(double a, double b) {
  return a > 0 ? fmt::format("{:+.1f}", 100 * (b / a - 1)) : "";
}

std::string yes_no(std::optional<bool> value) {
  if (!value) return "";
  return *value ? "yes" : "no";
}

// The last row of each key wins: rows come in id order, and a later
// measurement of the same thing replaces an earlier one.
template <typename Row, typename Key>
std::map<Key, const Row*> by_key(const std::vector<Row>& rows, Key (*key)(const Row&)) {
  std::map<Key, const Row*> out;
  for (const Row& row : rows) out[key(row)] = &row;
  return out;
}

using CurveKey = std::tuple<std::string, std::string, int64_t>;
CurveKey curve_key(const LatencyCurve& c) { return {c.device.name, c.model, c.batch}; }

using LatencyKey = std::tuple<std::string, std::string, int64_t, std::string>;
LatencyKey latency_key(const MethodLatencyRow& r) {
  return {r.device.name, r.model, r.batch, r.method};
}

using AccuracyKey = std::tuple<std::string, std::string, std::string, std::string>;
AccuracyKey accuracy_key(const EvaluationRow& e) { return {e.model, e.dataset, e.split, e.method}; }

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

std::optional<bool> beyond_intervals(std::optional<double> a_low, std::optional<double> a_high,
                                     std::optional<double> b_low, std::optional<double> b_high) {
  if (!a_low || !a_high || !b_low || !b_high) return std::nullopt;
  return *b_low > *a_high || *b_high < *a_low;
}

Table compare_curves_table(const ReportData& a, const ReportData& b) {
  Table table{"compare-curves",
              "Latency curves in both sweeps: the points measured in both, how many moved beyond "
              "their 95% CIs (intervals that do not overlap), and the change of B against A",
              {"device", "model", "batch", "points", "beyond CIs", "points without CI",
               "median change (%)", "largest change (%)", "at tokens"},
              {}};
  const auto in_b = by_key(b.latency_curves, &curve_key);
  for (const LatencyCurve& curve_a : a.latency_curves) {
    const auto found = in_b.find(curve_key(curve_a));
    if (found == in_b.end()) continue;
    std::map<int64_t, const LatencyPointRow*> b_points;
    for (const LatencyPointRow& p : found->second->points) b_points[p.tokens] = &p;
    int64_t both = 0, beyond = 0, no_ci = 0;
    std::vector<double> changes;
    double largest = 0;
    int64_t largest_at = 0;
    for (const LatencyPointRow& p : curve_a.points) {
      const auto other = b_points.find(p.tokens);
      if (other == b_points.end() || !(p.median_ms > 0)) continue;
      const LatencyPointRow& q = *other->second;
      ++both;
      const std::optional<bool> moved =
          beyond_intervals(p.ci95_low_ms, p.ci95_high_ms, q.ci95_low_ms, q.ci95_high_ms);
      no_ci += !moved.has_value();
      beyond += moved.value_or(false);
      const double change = q.median_ms / p.median_ms - 1;
      changes.push_back(change);
      if (std::abs(change) > std::abs(largest)) {
        largest = change;
        largest_at = p.tokens;
      }
    }
    if (both == 0) continue;
    table.rows.push_back({device_label(curve_a.device), curve_a.model,
                          std::to_string(curve_a.batch), std::to_string(both),
                          std::to_string(beyond), std::to_string(no_ci),
                          fmt::format("{:+.1f}", 100 * median_of(changes)),
                          fmt::format("{:+.1f}", 100 * largest), std::to_string(largest_at)});
  }
  return table;
}

Table compare_latency_table(const ReportData& a, const ReportData& b) {
  Table table{"compare-latency",
              "Method latencies in both sweeps: the medians and their change, and each method's "
              "paired ratio to none (± 95% CI) with whether the two ratios agree (their CIs "
              "overlap)",
              {"device", "model", "batch", "method", "A (ms)", "B (ms)", "change (%)", "A vs none",
               "B vs none", "ratios agree"},
              {}};
  table.csv = Grid{{"device", "model", "batch", "method", "a_ms", "b_ms", "change_percent",
                    "a_vs_none_percent", "a_vs_none_ci95_half_width_percent", "b_vs_none_percent",
                    "b_vs_none_ci95_half_width_percent", "ratios_agree"},
                   {}};
  const auto in_b = by_key(b.method_latencies, &latency_key);
  for (const auto& [key, row_a] : by_key(a.method_latencies, &latency_key)) {
    const auto found = in_b.find(key);
    if (found == in_b.end()) continue;
    const MethodLatencyRow& row_b = *found->second;
    const auto ratio_text = [](const MethodLatencyRow& row) -> std::string {
      return row.ratio ? ratio_change_text(*row.ratio, row.ratio_ci95_low, row.ratio_ci95_high)
                       : "";
    };
    const auto change = [](const MethodLatencyRow& row) -> std::optional<double> {
      return row.ratio ? std::optional(100 * (*row.ratio - 1)) : std::nullopt;
    };
    const auto half_width = [](const MethodLatencyRow& row) -> std::optional<double> {
      return row.ratio
                 ? ratio_ci_half_width_percent(*row.ratio, row.ratio_ci95_low, row.ratio_ci95_high)
                 : std::nullopt;
    };
    const std::optional<bool> moved = beyond_intervals(
        row_a->ratio_ci95_low, row_a->ratio_ci95_high, row_b.ratio_ci95_low, row_b.ratio_ci95_high);
    table.rows.push_back({device_label(row_a->device), row_a->model, std::to_string(row_a->batch),
                          row_a->method, latency_ms_text(row_a->median_ms),
                          latency_ms_text(row_b.median_ms),
                          percent_change(row_a->median_ms, row_b.median_ms), ratio_text(*row_a),
                          ratio_text(row_b), moved ? yes_no(!*moved) : ""});
    table.csv->rows.push_back(
        {row_a->device.name, row_a->model, std::to_string(row_a->batch), row_a->method,
         csv_number(row_a->median_ms), csv_number(row_b.median_ms),
         row_a->median_ms > 0 ? csv_number(100 * (row_b.median_ms / row_a->median_ms - 1)) : "",
         csv_number(change(*row_a)), csv_number(half_width(*row_a)), csv_number(change(row_b)),
         csv_number(half_width(row_b)), moved ? (*moved ? "0" : "1") : ""});
  }
  return table;
}

Table compare_accuracy_table(const ReportData& a, const ReportData& b) {
  Table table{
      "compare-accuracy",
      "Accuracy in both sweeps: top-1 with its Wilson 95% interval, the change in "
      "points, and McNemar's exact p when both were evaluated on the same images",
      {"model", "dataset", "method", "A top-1 (%)", "B top-1 (%)", "change (pts)", "McNemar p"},
      {}};
  table.csv = Grid{{"model", "dataset", "method", "a_top1_percent", "a_top1_ci95_low_percent",
                    "a_top1_ci95_high_percent", "b_top1_percent", "b_top1_ci95_low_percent",
                    "b_top1_ci95_high_percent", "change_points", "mcnemar_p"},
                   {}};
  const auto in_b = by_key(b.evaluations, &accuracy_key);
  for (const auto& [key, row_a] : by_key(a.evaluations, &accuracy_key)) {
    const auto found = in_b.find(key);
    if (found == in_b.end()) continue;
    const EvaluationRow& row_b = *found->second;
    const std::optional<double> p = paired_top1_p(*row_a, row_b);
    table.rows.push_back({row_a->model, row_a->dataset + "/" + row_a->split, row_a->method,
                          top1_with_interval(*row_a), top1_with_interval(row_b),
                          top1_change_text(100 * (row_b.top1 - row_a->top1), *row_a),
                          p_value_text(p)});
    std::vector<std::string> line = {row_a->model, row_a->dataset + "/" + row_a->split,
                                     row_a->method};
    for (const EvaluationRow* row : {row_a, &row_b}) {
      const std::optional<stats::Interval> interval = top1_interval(*row);
      line.push_back(csv_number(100 * row->top1));
      line.push_back(interval ? csv_number(100 * interval->low) : "");
      line.push_back(interval ? csv_number(100 * interval->high) : "");
    }
    line.push_back(csv_number(100 * (row_b.top1 - row_a->top1)));
    line.push_back(csv_number(p));
    table.csv->rows.push_back(std::move(line));
  }
  return table;
}

std::vector<Table> compare_tables(const ReportData& a, const ReportData& b) {
  std::vector<Table> tables;
  for (Table table :
       {compare_curves_table(a, b), compare_latency_table(a, b), compare_accuracy_table(a, b)}) {
    if (!table.rows.empty()) tables.push_back(std::move(table));
  }
  return tables;
}

}  // namespace tailsweep::report
