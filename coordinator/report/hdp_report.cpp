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

// The order the families' series and legends take: the paper's.
const std::vector<std::string> kFamilyOrder = {"none", "pomt",     "topk",  "tome",
                                               "hdp",  "pomt+hdp", "random"};

const std::vector<std::string> kFamilyColors = {"#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c",
                                                "#d62728", "#9467bd", "#8c564b"};

std::size_t family_index(const std::string& family) {
  const auto found = std::find(kFamilyOrder.begin(), kFamilyOrder.end(), family);
  return static_cast<std::size_t>(found - kFamilyOrder.begin());  // others after the known
}

std::string percent(double share) { return fmt::format("{:.1f}", 100 * share); }

// The evaluations a figure of one model shows: its first dataset and split,
// one per method (the first).
std::vector<const EvaluationRow*> figure_evaluations(
    const std::string& model, const std::vector<EvaluationRow>& evaluations) {
  std::vector<const EvaluationRow*> chosen;
  for (const EvaluationRow& row : evaluations) {
    if (row.model != model) continue;
    if (!chosen.empty() &&
        (row.dataset != chosen.front()->dataset || row.split != chosen.front()->split)) {
      continue;
    }
    const bool seen = std::any_of(chosen.begin(), chosen.end(),
                                  [&](const EvaluationRow* c) { return c->method == row.method; });
    if (!seen) chosen.push_back(&row);
  }
  return chosen;
}

// One points series per family, filled by add(family, x, y, label).
class FamilySeries {
 public:
  void add(const std::string& method, double x, double y) {
    const std::string family = method_family_name(method);
    Series& series = by_family_[family];
    series.label = family;
    series.style = SeriesStyle::points;
    const std::size_t index = family_index(family);
    series.color = kFamilyColors[std::min(index, kFamilyColors.size() - 1)];
    series.x.push_back(x);
    series.y.push_back(y);
    series.point_labels.push_back(method);
  }
  std::vector<Series> take() {
    std::vector<std::pair<std::size_t, std::string>> order;
    for (const auto& [family, series] : by_family_)
      order.emplace_back(family_index(family), family);
    std::sort(order.begin(), order.end());
    std::vector<Series> result;
    for (const auto& [index, family] : order) result.push_back(std::move(by_family_[family]));
    return result;
  }

 private:
  std::map<std::string, Series> by_family_;
};

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

std::string method_family_name(const std::string& method) {
  MethodSpec spec;
  try {
    spec = parse_method_spec(method);
  } catch (const InputError&) {
    return "other";
  }
  if (!spec.hdp) return std::string(method_kind_name(spec.kind));
  return spec.kind == MethodKind::kNone ? "hdp"
                                        : fmt::format("{}+hdp", method_kind_name(spec.kind));
}

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

NamedPlot accuracy_vs_paired_latency_plot(const std::string& model, const DeviceRef& device,
                                          int64_t batch,
                                          const std::vector<EvaluationRow>& evaluations,
                                          const std::vector<MethodLatencyRow>& latencies) {
  NamedPlot named;
  named.file_name = fmt::format("accuracy-vs-paired-latency-{}-{}-b{}.svg", file_slug(device.name),
                                file_slug(model), batch);
  const std::vector<const EvaluationRow*> rows = figure_evaluations(model, evaluations);
  PlotSpec& plot = named.plot;
  plot.title = fmt::format("Top-1 vs latency change: {}, batch {}, on {}", model, batch,
                           device_label(device));
  plot.x_label = "latency vs none, paired in the same rounds (%)";
  plot.y_label =
      rows.empty() ? "top-1 (%)"
                   : fmt::format("top-1 on {}/{} (%)", rows.front()->dataset, rows.front()->split);
  std::map<std::string, const MethodLatencyRow*> timed;  // a later row of a method wins
  for (const MethodLatencyRow& row : latencies) {
    if (row.model == model && row.device.name == device.name && row.batch == batch && row.ratio) {
      timed[row.method] = &row;
    }
  }
  FamilySeries series;
  for (const EvaluationRow* row : rows) {
    if (row->method == "none") {
      series.add(row->method, 0, 100 * row->top1);
      continue;
    }
    const auto found = timed.find(row->method);
    if (found != timed.end()) {
      series.add(row->method, 100 * (*found->second->ratio - 1), 100 * row->top1);
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
    std::vector<std::pair<DeviceRef, int64_t>> timed;  // device and batch, in row order
    for (const MethodLatencyRow& row : data.method_latencies) {
      if (row.model != model || !row.ratio || !row.hdp_heads_pruned_share) continue;
      const bool known = std::any_of(timed.begin(), timed.end(), [&](const auto& t) {
        return t.first.name == row.device.name && t.second == row.batch;
      });
      if (!known) timed.emplace_back(row.device, row.batch);
    }
    for (const auto& [device, batch] : timed) {
      plots.push_back(accuracy_vs_paired_latency_plot(model, device, batch, data.evaluations,
                                                      data.method_latencies));
    }
  }
  return plots;
}

}  // namespace tailsweep::report
