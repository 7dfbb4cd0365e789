#include "coordinator/report/report_plots.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include <fmt/core.h>

#include "coordinator/report/design_report.h"
#include "coordinator/report/hdp_report.h"
#include "coordinator/report/method_plots.h"
#include "coordinator/report/report_tables.h"

namespace tailsweep::report {
namespace {

// Colours that stay distinct in print (matplotlib's tab10).
const std::vector<std::string> kPalette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#17becf"};

const std::string& color(std::size_t index) { return kPalette[index % kPalette.size()]; }

// An empty line series with its legend text and colour.
Series labelled(std::string label, std::string line_color) {
  Series series;
  series.label = std::move(label);
  series.color = std::move(line_color);
  return series;
}

}  // namespace

NamedPlot latency_plot(const LatencyCurve& curve, const std::vector<ScheduleEntry>& schedules) {
  NamedPlot named;
  named.file_name = fmt::format("latency-{}-{}-b{}.svg", file_slug(curve.device.name),
                                file_slug(curve.model), curve.batch);
  PlotSpec& plot = named.plot;
  plot.title = fmt::format("L(n): {}, batch {}, on {}", curve.model, curve.batch,
                           device_label(curve.device));
  plot.x_label = "tokens kept (with CLS)";
  plot.y_label = "latency, median (ms)";
  Series series;
  series.label = "median, 95% CI band";
  for (const LatencyPointRow& point : curve.points) {
    series.x.push_back(static_cast<double>(point.tokens));
    series.y.push_back(point.median_ms);
    series.band_low.push_back(point.ci95_low_ms.value_or(point.median_ms));
    series.band_high.push_back(point.ci95_high_ms.value_or(point.median_ms));
  }
  plot.series.push_back(std::move(series));
  for (const schedule::LatencyStep& step : curve.steps) {
    // Between the two counts: the step happens somewhere in that gap.
    plot.markers.push_back({(step.tokens_below + step.tokens_above) / 2.0,
                            fmt::format("{:+.1f} ms", step.height_ms), "#d62728", true});
  }
  for (const ScheduleEntry& entry : schedules) {
    if (entry.device.name == curve.device.name && entry.model == curve.model &&
        entry.batch == curve.batch) {
      plot.markers.push_back({static_cast<double>(entry.n_star),
                              fmt::format("n*={} (R={})", entry.n_star, entry.r), "#2ca02c",
                              false});
    }
  }
  return named;
}

NamedPlot accuracy_plot(const std::string& model, const std::vector<AccuracyCurve>& curves) {
  NamedPlot named;
  named.file_name = fmt::format("accuracy-{}.svg", file_slug(model));
  PlotSpec& plot = named.plot;
  plot.title = fmt::format("A(n): {} (accuracy is measured on real devices only)", model);
  plot.x_label = "tokens kept (with CLS)";
  plot.y_label = "top-1 (%)";
  std::size_t index = 0;
  for (const AccuracyCurve& curve : curves) {
    if (curve.model != model) continue;
    Series series;
    series.label = fmt::format("{}/{}, {}", curve.dataset, curve.split, curve.method);
    series.color = color(index++);
    for (const AccuracyPointRow& point : curve.points) {
      series.x.push_back(static_cast<double>(point.tokens));
      series.y.push_back(100 * point.top1);
    }
    plot.series.push_back(std::move(series));
  }
  return named;
}

NamedPlot accuracy_vs_latency_plot(const std::string& model,
                                   const std::vector<EvaluationRow>& evaluations) {
  NamedPlot named;
  named.file_name = fmt::format("accuracy-vs-latency-{}.svg", file_slug(model));
  PlotSpec& plot = named.plot;
  std::vector<DeviceRef> devices;
  for (const EvaluationRow& row : evaluations) {
    if (row.model != model || !row.latency_median_ms) continue;
    bool known = false;
    for (const DeviceRef& device : devices) known = known || device.name == row.device.name;
    if (!known) devices.push_back(row.device);
  }
  std::vector<std::string> device_labels;
  for (const DeviceRef& device : devices) device_labels.push_back(device_label(device));
  std::string devices_text;
  for (const std::string& label : device_labels) {
    devices_text += (devices_text.empty() ? "" : ", ") + label;
  }
  plot.title = fmt::format("Top-1 vs latency: {} on {}", model,
                           devices_text.empty() ? "no device" : devices_text);
  plot.x_label = "latency, median (ms)";
  plot.y_label = "top-1 (%)";
  for (std::size_t d = 0; d < devices.size(); ++d) {
    Series series;
    series.label = device_labels[d];
    series.style = SeriesStyle::points;
    series.color = color(d);
    for (const EvaluationRow& row : evaluations) {
      if (row.model != model || !row.latency_median_ms || row.device.name != devices[d].name) {
        continue;
      }
      series.x.push_back(*row.latency_median_ms);
      series.y.push_back(100 * row.top1);
      series.point_labels.push_back(row.method);
    }
    plot.series.push_back(std::move(series));
  }
  return named;
}

NamedPlot clustering_plot(const std::string& model, const std::vector<ClusteringRow>& rows) {
  NamedPlot named;
  named.file_name = fmt::format("clustering-{}.svg", file_slug(model));
  PlotSpec& plot = named.plot;
  plot.title = fmt::format("Weight clustering: top-1 of {} against the clusters per tensor", model);
  plot.x_label = "log2 K, K the clusters per tensor (4: 16, 6: 64, 8: 256)";
  plot.y_label = "top-1 (%)";
  std::vector<std::string> sets;  // dataset/split, in the rows' order
  for (const ClusteringRow& row : rows) {
    const std::string set = row.dataset + "/" + row.split;
    if (row.model == model && std::find(sets.begin(), sets.end(), set) == sets.end()) {
      sets.push_back(set);
    }
  }
  for (std::size_t s = 0; s < sets.size(); ++s) {
    Series clustered = labelled(sets[s] + ", clustered", color(2 * s));
    Series dense = labelled(sets[s] + ", dense", color(2 * s + 1));
    for (const ClusteringRow& row : rows) {
      if (row.model != model || row.dataset + "/" + row.split != sets[s]) continue;
      const double x = std::log2(static_cast<double>(row.clusters));
      clustered.x.push_back(x);
      clustered.y.push_back(100 * row.top1);
      clustered.point_labels.push_back(fmt::format("K={}", row.clusters));
      if (row.dense_top1) {
        dense.x.push_back(x);
        dense.y.push_back(100 * *row.dense_top1);
      }
    }
    plot.series.push_back(std::move(clustered));
    if (!dense.x.empty()) plot.series.push_back(std::move(dense));
  }
  return named;
}

// The paired latency change of "none" on the clustered model against K,
// one line per device and batch, its 95% CI as a band.
NamedPlot clustering_latency_plot(const std::string& model,
                                  const std::vector<ClusteringLatencyRow>& rows) {
  NamedPlot named;
  named.file_name = fmt::format("clustering-latency-{}.svg", file_slug(model));
  PlotSpec& plot = named.plot;
  plot.title =
      fmt::format("Weight clustering: {}'s latency change against K (paired, same rounds)", model);
  plot.x_label = "log2 K, K the clusters per tensor (4: 16, 6: 64, 8: 256)";
  plot.y_label = "latency change against the dense model (%)";
  std::vector<std::pair<std::string, int64_t>> lines;  // device, batch, in the rows' order
  for (const ClusteringLatencyRow& row : rows) {
    const std::pair line{device_label(row.device), row.batch};
    if (row.model == model && row.method == "none" && row.ratio &&
        std::find(lines.begin(), lines.end(), line) == lines.end()) {
      lines.push_back(line);
    }
  }
  for (std::size_t l = 0; l < lines.size(); ++l) {
    Series series =
        labelled(fmt::format("{}, batch {}", lines[l].first, lines[l].second), color(l));
    for (const ClusteringLatencyRow& row : rows) {
      if (row.model != model || row.method != "none" || !row.ratio ||
          std::pair{device_label(row.device), row.batch} != lines[l]) {
        continue;
      }
      series.x.push_back(std::log2(static_cast<double>(row.clusters)));
      series.y.push_back(100 * (*row.ratio - 1));
      series.band_low.push_back(100 * (row.ratio_ci95_low.value_or(*row.ratio) - 1));
      series.band_high.push_back(100 * (row.ratio_ci95_high.value_or(*row.ratio) - 1));
      series.point_labels.push_back(row.weight_kernel);
    }
    plot.series.push_back(std::move(series));
  }
  return named;
}

std::vector<NamedPlot> report_plots(const ReportData& data) {
  std::vector<NamedPlot> plots;
  for (const LatencyCurve& curve : data.latency_curves) {
    plots.push_back(latency_plot(curve, data.schedules));
  }
  std::set<std::string> accuracy_models;
  for (const AccuracyCurve& curve : data.accuracy_curves) accuracy_models.insert(curve.model);
  for (const std::string& model : accuracy_models) {
    plots.push_back(accuracy_plot(model, data.accuracy_curves));
  }
  std::set<std::string> evaluated_models;
  for (const EvaluationRow& row : data.evaluations) {
    if (row.latency_median_ms) evaluated_models.insert(row.model);
  }
  for (const std::string& model : evaluated_models) {
    plots.push_back(accuracy_vs_latency_plot(model, data.evaluations));
  }
  std::set<std::string> clustered_models;
  for (const ClusteringRow& row : data.clustering) clustered_models.insert(row.model);
  for (const std::string& model : clustered_models) {
    plots.push_back(clustering_plot(model, data.clustering));
  }
  std::set<std::string> timed_clustered_models;
  for (const ClusteringLatencyRow& row : data.clustering_latency) {
    if (row.method == "none" && row.ratio) timed_clustered_models.insert(row.model);
  }
  for (const std::string& model : timed_clustered_models) {
    plots.push_back(clustering_latency_plot(model, data.clustering_latency));
  }
  for (NamedPlot& plot : hdp_plots(data)) plots.push_back(std::move(plot));
  for (NamedPlot& plot : design_plots(data)) plots.push_back(std::move(plot));
  for (NamedPlot& plot : paired_latency_plots(data)) plots.push_back(std::move(plot));
  return plots;
}

}  // namespace tailsweep::report
