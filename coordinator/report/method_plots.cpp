#include "coordinator/report/method_plots.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include <fmt/core.h>

#include "analysis/pareto.h"
#include "common/model/method_spec.h"
#include "common/util/errors.h"
#include "coordinator/report/report_tables.h"

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

void FamilySeries::add(const std::string& method, double x, double y) {
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

std::vector<Series> FamilySeries::take() {
  std::vector<std::pair<std::size_t, std::string>> order;
  for (const auto& [family, series] : by_family_) order.emplace_back(family_index(family), family);
  std::sort(order.begin(), order.end());
  std::vector<Series> result;
  for (const auto& [index, family] : order) result.push_back(std::move(by_family_[family]));
  return result;
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
  // The front over every family's points, drawn under them as a line.
  std::vector<stats::ParetoPoint> points;
  std::vector<std::pair<double, double>> xy;
  for (const Series& family : plot.series) {
    for (std::size_t i = 0; i < family.x.size(); ++i) {
      points.push_back({family.x[i], family.y[i]});
      xy.emplace_back(family.x[i], family.y[i]);
    }
  }
  const std::vector<std::size_t> front = stats::pareto_front(points);
  if (front.size() >= 2) {
    Series line;
    line.label = "Pareto front";
    line.color = "#000000";
    for (const std::size_t i : front) {
      line.x.push_back(xy[i].first);
      line.y.push_back(xy[i].second);
    }
    plot.series.insert(plot.series.begin(), std::move(line));
  }
  return named;
}

std::vector<NamedPlot> paired_latency_plots(const ReportData& data) {
  std::vector<std::tuple<std::string, DeviceRef, int64_t>> timed;  // in row order
  for (const MethodLatencyRow& row : data.method_latencies) {
    if (!row.ratio) continue;
    const bool known = std::any_of(timed.begin(), timed.end(), [&](const auto& t) {
      return std::get<0>(t) == row.model && std::get<1>(t).name == row.device.name &&
             std::get<2>(t) == row.batch;
    });
    if (!known) timed.emplace_back(row.model, row.device, row.batch);
  }
  std::vector<NamedPlot> plots;
  for (const auto& [model, device, batch] : timed) {
    plots.push_back(accuracy_vs_paired_latency_plot(model, device, batch, data.evaluations,
                                                    data.method_latencies));
  }
  return plots;
}

}  // namespace tailsweep::report
