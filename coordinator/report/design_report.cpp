#include "coordinator/report/design_report.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "analysis/pareto.h"
#include "coordinator/report/number_text.h"

namespace tailsweep::report {
namespace {

// Each device's rows at each batch, in the order loaded.
using Group = std::pair<std::string, int64_t>;  // device label, batch
std::map<Group, std::vector<const ArchitectureRow*>> by_device_and_batch(const ReportData& data) {
  std::map<Group, std::vector<const ArchitectureRow*>> groups;
  for (const ArchitectureRow& row : data.architectures) {
    groups[{device_label(row.device), row.batch}].push_back(&row);
  }
  return groups;
}

std::string millions(double parameters) { return significant_text(parameters / 1e6, 3); }
std::string joules_text(const std::optional<double>& joules) {
  return joules ? significant_text(*joules, 3) : "";
}
std::string watts_text(const std::optional<double>& watts) {
  return watts ? significant_text(*watts, 3) : "";
}

Table convergence_table(const ReportData& data) {
  Table table{"design-space-convergence",
              "Active learning: each step's surrogate, its held-out error (5-fold, normalised by "
              "twice the largest measured value) against the architectures measured",
              {"device", "selection", "target", "step", "samples", "held-out nMSE", "converged"},
              {}};
  // A target a device never measured (energy without a sensor) is one line
  // with the reason, not one per step.
  std::set<std::tuple<std::string, std::string, std::string>> fitted, said;
  for (const SurrogateFitRow& fit : data.surrogate_fits) {
    if (fit.nmse) fitted.insert({device_label(fit.device), fit.selection, fit.target});
  }
  for (const SurrogateFitRow& fit : data.surrogate_fits) {
    const std::tuple key{device_label(fit.device), fit.selection, fit.target};
    if (!fit.nmse && !fitted.contains(key)) {
      if (!said.insert(key).second) continue;
      table.rows.push_back({std::get<0>(key), fit.selection, fit.target, "every", "0",
                            fit.null_reason.value_or(""), ""});
      continue;
    }
    table.rows.push_back({std::get<0>(key), fit.selection, fit.target, std::to_string(fit.step),
                          std::to_string(fit.samples),
                          fit.nmse ? significant_text(*fit.nmse, 2) : fit.null_reason.value_or(""),
                          fit.converged ? "yes" : ""});
  }
  return table;
}

// ProTran's table: the architectures with the lowest latency, energy and
// peak power on each device.
Table minima_table(const ReportData& data) {
  Table table{"design-space-minima",
              "The measured architectures with the lowest latency, energy and peak power, per "
              "device and batch",
              {"device", "batch", "lowest", "architecture", "layers", "parameters (M)",
               "ms per input", "J per input", "peak W", "measured"},
              {}};
  // Named, not bound: Clang 14 (the fuzz build) cannot capture structured bindings.
  for (const auto& entry : by_device_and_batch(data)) {
    const Group& group = entry.first;
    const std::vector<const ArchitectureRow*>& rows = entry.second;
    const auto add = [&](const char* what, const ArchitectureRow* row, std::size_t with_value) {
      if (row == nullptr) {
        table.rows.push_back({group.first, std::to_string(group.second), what, "", "", "", "", "",
                              "", rows.front()->power_null_reason.value_or("not measured")});
        return;
      }
      table.rows.push_back({group.first, std::to_string(group.second), what, row->id,
                            std::to_string(row->layers), millions(row->parameters),
                            latency_ms_text(row->ms_per_input), joules_text(row->joules_per_input),
                            watts_text(row->peak_w),
                            fmt::format("{} architectures{}", with_value,
                                        row->reached_precision ? "" : " (not to precision)")});
    };
    const auto lowest = [&](auto value) {
      const ArchitectureRow* best = nullptr;
      std::size_t count = 0;
      for (const ArchitectureRow* row : rows) {
        const std::optional<double> v = value(*row);
        if (!v) continue;
        ++count;
        if (best == nullptr || *v < *value(*best)) best = row;
      }
      return std::pair{best, count};
    };
    const auto [latency, n_latency] =
        lowest([](const ArchitectureRow& r) { return std::optional(r.ms_per_input); });
    add("latency", latency, n_latency);
    const auto [energy, n_energy] =
        lowest([](const ArchitectureRow& r) { return r.joules_per_input; });
    add("energy", energy, n_energy);
    const auto [peak, n_peak] = lowest([](const ArchitectureRow& r) { return r.peak_w; });
    add("peak power", peak, n_peak);
  }
  return table;
}

Table front_table(const ReportData& data) {
  Table table{"design-space-front",
              "The measured Pareto front: architectures no other beats in latency, energy (where "
              "measured) and parameters at once",
              {"device", "batch", "architecture", "layers", "parameters (M)", "GFLOPs per input",
               "ms per input", "J per input", "peak W"},
              {}};
  for (const auto& [group, rows] : by_device_and_batch(data)) {
    for (const ArchitectureRow* row : measured_front(rows)) {
      table.rows.push_back({group.first, std::to_string(group.second), row->id,
                            std::to_string(row->layers), millions(row->parameters),
                            significant_text(row->flops_per_input / 1e9, 3),
                            latency_ms_text(row->ms_per_input), joules_text(row->joules_per_input),
                            watts_text(row->peak_w)});
    }
  }
  return table;
}

const std::vector<std::string> kColors = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd",
                                          "#8c564b", "#e377c2", "#7f7f7f", "#17becf"};

}  // namespace

std::vector<const ArchitectureRow*> measured_front(
    const std::vector<const ArchitectureRow*>& rows) {
  const bool energy = !rows.empty() && std::all_of(rows.begin(), rows.end(), [](const auto* r) {
    return r->joules_per_input.has_value();
  });
  std::vector<std::vector<double>> costs;
  for (const ArchitectureRow* row : rows) {
    costs.push_back(
        energy ? std::vector<double>{row->ms_per_input, *row->joules_per_input, row->parameters}
               : std::vector<double>{row->ms_per_input, row->parameters});
  }
  std::vector<const ArchitectureRow*> front;
  for (const std::size_t i : stats::nondominated(costs)) front.push_back(rows[i]);
  return front;
}

std::vector<Table> design_tables(const ReportData& data) {
  if (data.architectures.empty()) return {};
  std::vector<Table> tables;
  if (!data.surrogate_fits.empty()) tables.push_back(convergence_table(data));
  tables.push_back(minima_table(data));
  tables.push_back(front_table(data));
  return tables;
}

std::vector<NamedPlot> design_plots(const ReportData& data) {
  std::vector<NamedPlot> plots;
  if (!data.surrogate_fits.empty()) {
    PlotSpec plot;
    plot.title = "Active learning: the latency surrogate's held-out error";
    plot.x_label = "architectures measured";
    plot.y_label = "held-out nMSE (5-fold)";
    std::map<std::pair<std::string, std::string>, Series> series;
    for (const SurrogateFitRow& fit : data.surrogate_fits) {
      if (fit.target != "latency" || !fit.nmse) continue;
      Series& s = series[{device_label(fit.device), fit.selection}];
      s.label = device_label(fit.device) + ", " + fit.selection;
      s.x.push_back(static_cast<double>(fit.samples));
      s.y.push_back(*fit.nmse);
    }
    std::size_t index = 0;
    for (auto& [key, s] : series) {
      s.color = kColors[index++ % kColors.size()];
      plot.series.push_back(std::move(s));
    }
    plots.push_back({"design-space-convergence.svg", std::move(plot)});
  }
  std::size_t index = 0;
  for (const auto& [group, rows] : by_device_and_batch(data)) {
    PlotSpec plot;
    plot.title = fmt::format("{}, batch {}: latency against parameters", group.first, group.second);
    plot.x_label = "parameters (millions)";
    plot.y_label = "ms per input";
    Series all;
    all.label = "measured";
    all.style = SeriesStyle::points;
    all.color = kColors[index % kColors.size()];
    for (const ArchitectureRow* row : rows) {
      all.x.push_back(row->parameters / 1e6);
      all.y.push_back(row->ms_per_input);
    }
    std::vector<const ArchitectureRow*> front = measured_front(rows);
    std::sort(front.begin(), front.end(),
              [](const auto* a, const auto* b) { return a->parameters < b->parameters; });
    Series line;
    line.label = "Pareto front";
    line.color = "#d62728";
    for (const ArchitectureRow* row : front) {
      line.x.push_back(row->parameters / 1e6);
      line.y.push_back(row->ms_per_input);
      line.point_labels.push_back(row->id.substr(5, 6));
    }
    plot.series = {std::move(all), std::move(line)};
    plots.push_back({fmt::format("design-space-{}-b{}.svg", file_slug(group.first), group.second),
                     std::move(plot)});
    ++index;
  }
  return plots;
}

}  // namespace tailsweep::report
