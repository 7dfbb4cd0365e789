#include "coordinator/report/hdp_report.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>

#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/model/token_schedule.h"
#include "common/util/errors.h"
#include "coordinator/report/number_text.h"

namespace tailsweep::report {
namespace {

std::string percent(double share) { return fmt::format("{:.1f}", 100 * share); }

// Each device that timed a method of a model, with its paired changes and
// the heads HDP pruned on the timing input, or as a simulated device's model
// assumed them (at the largest batch timed).
std::string latency_by_device(const std::vector<MethodLatencyRow>& latencies,
                              const std::string& model, const std::string& method) {
  std::vector<DeviceRef> devices;
  std::map<std::string, const MethodLatencyRow*> largest_batch;
  for (const MethodLatencyRow& row : latencies) {
    if (row.model != model || row.method != method || !row.ratio) continue;
    const auto known = std::find_if(devices.begin(), devices.end(),
                                    [&](const DeviceRef& d) { return d.name == row.device.name; });
    if (known == devices.end()) devices.push_back(row.device);
    const MethodLatencyRow*& largest = largest_batch[row.device.name];
    if (!largest || row.batch >= largest->batch) largest = &row;
  }
  std::sort(devices.begin(), devices.end(), [](const DeviceRef& a, const DeviceRef& b) {
    return std::pair(a.simulated, a.name) < std::pair(b.simulated, b.name);
  });
  std::string text;
  for (const DeviceRef& device : devices) {
    if (!text.empty()) text += "; ";
    text += fmt::format("{}: {}", device_label(device),
                        paired_change_text(latencies, model, method, device.name));
    const MethodLatencyRow* largest = largest_batch[device.name];
    if (largest->hdp_heads_pruned_share) {
      // A simulated device saw no input: its model took the evaluation's shares.
      text +=
          fmt::format(" ({}, b{}: {}% of heads pruned)",
                      device.simulated ? "modelled from the evaluation's shares" : "timing input",
                      largest->batch, percent(*largest->hdp_heads_pruned_share));
    }
  }
  return text;
}

}  // namespace

std::optional<double> attention_work_skipped(const EvaluationRow& row) {
  double kept = 0;
  try {
    kept = attention_work_share(parse_method_spec(row.method), parse_model_spec(row.model));
  } catch (const InputError&) {
    return std::nullopt;
  }
  // The engine counts HDP's work at the tokens each block saw, so what it
  // left is a share of what the token method left.
  if (row.hdp) kept *= 1 - row.hdp->attention_macs_skipped;
  return 1 - kept;
}

Table hdp_table(const std::vector<AccuracyRow>& rows,
                const std::vector<MethodLatencyRow>& latencies) {
  Table table{
      "hdp",
      "Hybrid Dynamic Pruning: top-1 vs none, what it pruned on the evaluation's images (heads "
      "of all (image, head) pairs, 2x2 blocks of the kept heads, attention multiply-accumulates "
      "of what it saw), the attention work skipped of the unpruned model's (token pruning "
      "included), and the paired latency change vs none per device and batch (± 95% CI)",
      {"model", "dataset", "method", "images", "top-1 (%)", "top-1 vs none (pts)",
       "heads pruned (%)", "blocks pruned (%)", "attention MACs skipped by HDP (%)",
       "attention work skipped (%)", "latency vs none per device", "eval device"},
      {}};
  // The CSV leaves out the latency per device (several numbers in one
  // cell): the paper table's CSV and hdp_latency_view have them.
  table.csv = Grid{
      {"model", "dataset", "split", "method", "images", "top1_percent", "top1_change_points",
       "heads_pruned_percent", "blocks_pruned_percent", "attention_macs_skipped_by_hdp_percent",
       "attention_work_skipped_percent", "eval_device"},
      {}};
  for (const AccuracyRow& row : rows) {
    const EvaluationRow& e = row.evaluation;
    if (!e.hdp) continue;
    const std::optional<double> skipped = attention_work_skipped(e);
    table.csv->rows.push_back(
        {e.model, e.dataset, e.split, e.method, std::to_string(e.images), csv_number(100 * e.top1),
         csv_number(row.top1_change_points), csv_number(100 * e.hdp->heads_pruned),
         csv_number(100 * e.hdp->blocks_pruned), csv_number(100 * e.hdp->attention_macs_skipped),
         skipped ? csv_number(100 * *skipped) : "", e.device.name});
    table.rows.push_back(
        {e.model, fmt::format("{}/{}", e.dataset, e.split), e.method, std::to_string(e.images),
         fmt::format("{:.{}f}", 100 * e.top1, top1_decimals(e)),
         row.top1_change_points ? top1_change_text(*row.top1_change_points, e) : "",
         percent(e.hdp->heads_pruned), percent(e.hdp->blocks_pruned),
         percent(e.hdp->attention_macs_skipped), skipped ? percent(*skipped) : "",
         latency_by_device(latencies, e.model, e.method), device_label(e.device)});
  }
  return table;
}

NamedPlot accuracy_vs_attention_plot(const std::string& model,
                                     const std::vector<EvaluationRow>& evaluations) {
  NamedPlot named;
  named.file_name = fmt::format("accuracy-vs-attention-{}.svg", file_slug(model));
  const std::vector<const EvaluationRow*> rows = figure_evaluations(model, evaluations);
  PlotSpec& plot = named.plot;
  plot.title = fmt::format(
      "Top-1 vs attention work skipped: {} on {}", model,
      rows.empty() ? "no evaluation" : rows.front()->dataset + "/" + rows.front()->split);
  plot.x_label = "attention multiply-accumulates skipped, of the unpruned model's (%)";
  plot.y_label = "top-1 (%)";
  FamilySeries series;
  for (const EvaluationRow* row : rows) {
    if (const std::optional<double> skipped = attention_work_skipped(*row)) {
      series.add(row->method, 100 * *skipped, 100 * row->top1);
    }
  }
  plot.series = series.take();
  return named;
}

std::vector<NamedPlot> hdp_plots(const ReportData& data) {
  std::set<std::string> models;
  for (const EvaluationRow& row : data.evaluations) {
    if (row.hdp) models.insert(row.model);
  }
  std::vector<NamedPlot> plots;
  for (const std::string& model : models) {
    plots.push_back(accuracy_vs_attention_plot(model, data.evaluations));
  }
  return plots;
}

}  // namespace tailsweep::report
