#include "coordinator/report/paper_tables.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <fmt/core.h>

#include "common/model/method_spec.h"
#include "coordinator/report/number_text.h"

namespace tailsweep::report {
namespace {

// The evaluation of a model's method: accuracy does not depend on the
// device, so any device's (the one with the most images) will do.
const EvaluationRow* evaluation_of(const ReportData& data, const std::string& model,
                                   const std::string& method) {
  const EvaluationRow* best = nullptr;
  for (const EvaluationRow& row : data.evaluations) {
    if (row.model == model && row.method == method &&
        (best == nullptr || row.images > best->images)) {
      best = &row;
    }
  }
  return best;
}

// Rows come in id order: a later measurement of the same thing wins.
const MethodLatencyRow* latency_row(const ReportData& data, const std::string& device,
                                    const std::string& model, int64_t batch,
                                    const std::string& method) {
  const MethodLatencyRow* latest = nullptr;
  for (const MethodLatencyRow& row : data.method_latencies) {
    if (row.device.name == device && row.model == model && row.batch == batch &&
        row.method == method) {
      latest = &row;
    }
  }
  return latest;
}

std::string pomt_method(const ScheduleEntry& schedule) {
  return to_string(parse_method_spec(fmt::format("pomt:{}@{}", schedule.r, schedule.layer)));
}

// Which method a row means on a device: fixed ("topk:8"), or chosen there.
using MethodOnDevice = std::function<std::optional<std::string>(const DeviceRef&)>;

struct PaperRow {
  std::string label;
  MethodOnDevice method;
  bool varies = false;   // the cells name their method
  bool matched = false;  // a baseline matched to POMT's latency, within a tolerance or not
};

// "1.90 (-15.2% ±0.8)": the median, and the change against the unpruned
// run as the paired ratio of the same rounds with its 95% CI half-width.
// A row measured before rounds (no ratio) shows the difference of medians,
// marked "unpaired".
std::string latency_change(const MethodLatencyRow& row, const MethodLatencyRow& baseline) {
  if (row.ratio) return ratio_change_text(*row.ratio, row.ratio_ci95_low, row.ratio_ci95_high);
  return fmt::format("{:+.1f}% unpaired",
                     100 * (row.median_ms - baseline.median_ms) / baseline.median_ms);
}

std::string latency_cell(const MethodLatencyRow* row, const MethodLatencyRow* baseline) {
  if (row == nullptr) return "";
  if (baseline == nullptr || row == baseline) return latency_ms_text(row->median_ms);
  return fmt::format("{} ({})", latency_ms_text(row->median_ms), latency_change(*row, *baseline));
}

// McNemar's p of a method's top-1 against the baseline's on the same images.
std::optional<double> top1_p(const EvaluationRow* row, const EvaluationRow* baseline) {
  if (row == nullptr || baseline == nullptr || row == baseline) return std::nullopt;
  return paired_top1_p(*row, *baseline);
}

// "87.8 (-0.9)", with " ns" when McNemar's test on the same images finds
// the change within noise (p >= 0.05); to top-1's precision.
std::string top1_cell(const EvaluationRow* row, const EvaluationRow* baseline) {
  if (row == nullptr) return "";
  const std::string top1 = fmt::format("{:.{}f}", 100 * row->top1, top1_decimals(*row));
  if (baseline == nullptr || baseline == row) return top1;
  const std::optional<double> p = top1_p(row, baseline);
  return fmt::format("{} ({}{})", top1, top1_change_text(100 * (row->top1 - baseline->top1), *row),
                     p && *p >= 0.05 ? " ns" : "");
}

const MatchedRow* matched_for(const ReportData& data, const DeviceRef& device,
                              const std::string& model, int64_t batch, const std::string& family) {
  for (const MatchedRow& row : data.matched) {
    if (row.device.name == device.name && row.model == model && row.batch == batch &&
        row.family == family) {
      return &row;
    }
  }
  return nullptr;
}

// What one row of the paper table is on one device.
struct PaperCell {
  std::string shown;  // the method as the cell names it ("tome:32 *"); "" when none
  std::string method;
  const MethodLatencyRow* latency = nullptr;
  const MethodLatencyRow* baseline = nullptr;
  const EvaluationRow* evaluation = nullptr;
};

// The devices' names without the prefix they all share ("local-"), for
// LaTeX's narrow columns; "(sim)" marks a simulated device.
std::vector<std::string> short_device_names(const std::vector<DeviceRef>& devices) {
  std::size_t common = 0;
  if (devices.size() > 1) {
    const std::string& first = devices.front().name;
    for (std::size_t end = first.find('-'); end != std::string::npos;
         end = first.find('-', end + 1)) {
      const std::string prefix = first.substr(0, end + 1);
      const bool shared = std::all_of(devices.begin(), devices.end(), [&](const DeviceRef& d) {
        return d.name.starts_with(prefix) && d.name.size() > prefix.size();
      });
      if (!shared) break;
      common = prefix.size();
    }
  }
  std::vector<std::string> names;
  for (const DeviceRef& device : devices) {
    names.push_back(device.name.substr(common) + (device.simulated ? " (sim)" : ""));
  }
  return names;
}

// The CSV of a paper table: one row per method row and device, one number
// per cell.
Grid paper_csv(const std::vector<PaperRow>& rows, const std::vector<DeviceRef>& devices,
               const std::vector<std::vector<PaperCell>>& cells,
               const EvaluationRow* baseline_eval) {
  Grid grid{{"row", "device", "simulated", "method", "within_tolerance", "latency_ms",
             "latency_change_percent", "latency_change_ci95_half_width_percent", "paired",
             "reached_precision", "top1_percent", "top1_ci95_low_percent", "top1_ci95_high_percent",
             "top1_change_points", "top1_change_mcnemar_p", "images"},
            {}};
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t d = 0; d < devices.size(); ++d) {
      const PaperCell& cell = cells[r][d];
      if (cell.method.empty() || (cell.latency == nullptr && cell.evaluation == nullptr)) continue;
      std::vector<std::string> line = {
          rows[r].label, devices[d].name, devices[d].simulated ? "1" : "0", cell.method,
          rows[r].matched ? (cell.shown.ends_with(" *") ? "0" : "1") : ""};
      const MethodLatencyRow* ms = cell.latency;
      std::optional<double> change, half_width;
      std::string paired;
      if (ms != nullptr && cell.baseline != nullptr && ms != cell.baseline) {
        if (ms->ratio) {
          change = 100 * (*ms->ratio - 1);
          half_width =
              ratio_ci_half_width_percent(*ms->ratio, ms->ratio_ci95_low, ms->ratio_ci95_high);
          paired = "1";
        } else {
          change = 100 * (ms->median_ms - cell.baseline->median_ms) / cell.baseline->median_ms;
          paired = "0";
        }
      }
      line.push_back(ms ? csv_number(ms->median_ms) : "");
      line.push_back(csv_number(change));
      line.push_back(csv_number(half_width));
      line.push_back(paired);
      line.push_back(ms ? (ms->reached_precision ? "1" : "0") : "");
      const EvaluationRow* e = cell.evaluation;
      const std::optional<stats::Interval> interval = e ? top1_interval(*e) : std::nullopt;
      line.push_back(e ? csv_number(100 * e->top1) : "");
      line.push_back(interval ? csv_number(100 * interval->low) : "");
      line.push_back(interval ? csv_number(100 * interval->high) : "");
      line.push_back(e && baseline_eval && e != baseline_eval
                         ? csv_number(100 * (e->top1 - baseline_eval->top1))
                         : "");
      line.push_back(csv_number(top1_p(e, baseline_eval)));
      line.push_back(e ? std::to_string(e->images) : "");
      grid.rows.push_back(std::move(line));
    }
  }
  return grid;
}

// The LaTeX of a paper table, narrow enough for a two-column paper's full
// width: short device names, latency as the change only (ms for the
// unpruned row), and top-1 once where every device ran the same method.
Grid paper_latex(const std::vector<PaperRow>& rows, const std::vector<DeviceRef>& devices,
                 const std::vector<std::vector<PaperCell>>& cells,
                 const EvaluationRow* baseline_eval) {
  Grid grid{{"method", "top-1 (%)"}, {}};
  for (const std::string& name : short_device_names(devices)) grid.columns.push_back(name);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::set<std::string> methods;
    for (const PaperCell& cell : cells[r]) {
      if (!cell.method.empty()) methods.insert(cell.method);
    }
    if (methods.empty()) continue;
    const bool one_method = methods.size() == 1;
    const EvaluationRow* shared = nullptr;
    for (const PaperCell& cell : cells[r]) {
      if (cell.evaluation != nullptr) shared = cell.evaluation;
    }
    std::vector<std::string> line = {rows[r].label,
                                     one_method ? top1_cell(shared, baseline_eval) : "per device"};
    bool any = false;
    for (const PaperCell& cell : cells[r]) {
      std::string text;
      if (cell.latency != nullptr) {
        any = true;
        text = cell.latency == cell.baseline || cell.baseline == nullptr
                   ? latency_ms_text(cell.latency->median_ms) + " ms"
                   : latency_change(*cell.latency, *cell.baseline);
        if (rows[r].varies) text = "(" + cell.shown.substr(cell.shown.find(':') + 1) + ") " + text;
      }
      if (!one_method && cell.evaluation != nullptr) {
        text +=
            fmt::format("; {:.{}f}", 100 * cell.evaluation->top1, top1_decimals(*cell.evaluation));
      }
      line.push_back(text);
    }
    if (any || shared != nullptr) grid.rows.push_back(std::move(line));
  }
  return grid;
}

Table paper_table(const ReportData& data, const std::string& model, int64_t batch) {
  std::vector<DeviceRef> devices;
  for (const MethodLatencyRow& row : data.method_latencies) {
    const bool listed = std::any_of(devices.begin(), devices.end(),
                                    [&](const DeviceRef& d) { return d.name == row.device.name; });
    if (row.model == model && row.batch == batch && !listed) devices.push_back(row.device);
  }
  std::vector<PaperRow> rows;
  rows.push_back({"unpruned", [](const DeviceRef&) { return std::optional<std::string>("none"); }});
  for (const std::string variant : {"reference", "aligned"}) {
    rows.push_back({variant == "reference" ? "POMT" : "POMT, step-aligned",
                    [&data, &model, batch, variant](const DeviceRef& device)
                        -> std::optional<std::string> {
                      for (const ScheduleEntry& s : data.schedules) {
                        if (s.device.name == device.name && s.model == model &&
                            s.batch == batch && s.variant == variant) {
                          return pomt_method(s);
                        }
                      }
                      return std::nullopt;
                    },
                    true});
  }
  std::set<std::string> matched_methods;
  for (const std::string family : {"topk", "tome"}) {
    rows.push_back(
        {fmt::format("{} at POMT's latency", family == "topk" ? "Top-K" : "ToMe"),
         [&data, &model, batch, family](const DeviceRef& device) -> std::optional<std::string> {
           const MatchedRow* row = matched_for(data, device, model, batch, family);
           if (row == nullptr) return std::nullopt;
           return row->within_tolerance ? row->method : row->method + " *";
         },
         true, true});
  }
  for (const MatchedRow& row : data.matched) {
    if (row.model == model && row.batch == batch) matched_methods.insert(row.method);
  }
  // The methods the sweep evaluated for everyone (topk:8, tome:8, ...).
  std::set<std::pair<int, std::string>> fixed;
  for (const EvaluationRow& row : data.evaluations) {
    if (row.model != model || row.method == "none" || row.method.starts_with("pomt:") ||
        matched_methods.contains(row.method)) {
      continue;
    }
    fixed.insert({method_rank(row.method), row.method});
  }
  for (const auto& ranked : fixed) {
    const std::string& method = ranked.second;  // not a structured binding: clang 14 captures it
    rows.push_back(
        {method, [method](const DeviceRef&) { return std::optional<std::string>(method); }});
  }

  const EvaluationRow* baseline_eval = evaluation_of(data, model, "none");
  std::vector<std::vector<PaperCell>> cells(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (const DeviceRef& device : devices) {
      PaperCell cell;
      if (const std::optional<std::string> shown = rows[r].method(device)) {
        cell.shown = *shown;
        cell.method = shown->substr(0, shown->find(' '));
        cell.latency = latency_row(data, device.name, model, batch, cell.method);
        cell.baseline = latency_row(data, device.name, model, batch, "none");
        cell.evaluation = evaluation_of(data, model, cell.method);
      }
      cells[r].push_back(cell);
    }
  }

  Table table{fmt::format("paper-{}-b{}", file_slug(model), batch),
              fmt::format("{}, batch {}: latency (ms; change against each device's unpruned "
                          "run as the paired ratio of the same rounds, ± its 95% CI) and top-1 "
                          "(%, change in points; ns = within noise by McNemar's test), per "
                          "device; * = more than the tolerance from POMT's latency",
                          model, batch),
              {"method"},
              {}};
  for (const DeviceRef& device : devices) {
    table.columns.push_back(device_label(device) + " latency");
    table.columns.push_back(device_label(device) + " top-1");
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::vector<std::string> line = {rows[r].label};
    bool any = false;
    for (const PaperCell& cell : cells[r]) {
      std::string latency = latency_cell(cell.latency, cell.baseline);
      if (rows[r].varies && !latency.empty()) latency = cell.shown + ": " + latency;
      line.push_back(latency);
      line.push_back(top1_cell(cell.evaluation, baseline_eval));
      any = any || cell.latency != nullptr || cell.evaluation != nullptr;
    }
    if (any) table.rows.push_back(std::move(line));
  }
  table.csv = paper_csv(rows, devices, cells, baseline_eval);
  table.latex = paper_latex(rows, devices, cells, baseline_eval);
  table.latex_note =
      "Latency: change against the device's unpruned run in \\%, $\\pm$ its 95\\% CI (ms for the "
      "unpruned row); in parentheses, the R or r that device ran; top-1 in \\%, with its "
      "change in points (ns: within noise), after the semicolon where it differs per device. "
      "(sim): a simulated device; *: more than the tolerance from POMT's latency.";
  return table;
}

// " !" for a latency known to have stopped short of its precision.
std::string short_mark(const std::optional<bool>& reached_precision) {
  return reached_precision == false ? " !" : "";
}

}  // namespace

std::vector<Table> paper_tables(const ReportData& data) {
  std::set<std::pair<std::string, int64_t>> targets;
  for (const MethodLatencyRow& row : data.method_latencies) targets.insert({row.model, row.batch});
  std::vector<Table> tables;
  for (const auto& [model, batch] : targets) tables.push_back(paper_table(data, model, batch));
  return tables;
}

Table matched_table(const ReportData& data) {
  Table table{"matched",
              "Top-K and ToMe at POMT's latency: the r whose latency on the device is closest; "
              "! = a latency that stopped short of its precision; McNemar's exact p of the "
              "top-1 difference on the same images",
              {"device", "model", "batch", "POMT", "POMT (ms)", "POMT top-1 (%)", "matched",
               "latency (ms)", "gap (%)", "within tolerance", "top-1 (%)", "McNemar p vs POMT"},
              {}};
  table.csv = Grid{{"device", "simulated", "model", "batch", "pomt_method", "pomt_ms",
                    "pomt_reached_precision", "pomt_top1_percent", "matched_method", "matched_ms",
                    "matched_reached_precision", "gap_percent", "within_tolerance",
                    "tolerance_percent", "matched_top1_percent", "mcnemar_p_vs_pomt"},
                   {}};
  for (const MatchedRow& row : data.matched) {
    const EvaluationRow* pomt = evaluation_of(data, row.model, row.target_method);
    const EvaluationRow* matched = evaluation_of(data, row.model, row.method);
    const std::optional<double> p = pomt && matched ? paired_top1_p(*matched, *pomt) : std::nullopt;
    const auto top1 = [](const EvaluationRow* e) {
      return e ? fmt::format("{:.{}f}", 100 * e->top1, top1_decimals(*e)) : std::string();
    };
    table.rows.push_back(
        {device_label(row.device), row.model, std::to_string(row.batch), row.target_method,
         latency_ms_text(row.target_latency_ms) + short_mark(row.target_reached_precision),
         top1(pomt), row.method,
         latency_ms_text(row.latency_ms) + short_mark(row.reached_precision),
         fmt::format("{:+.1f}", 100 * row.relative_gap),
         row.within_tolerance ? "yes" : fmt::format("no (> {:.0f}%)", 100 * row.tolerance),
         top1(matched), pomt && matched ? p_value_text(p) : ""});
    const auto flag = [](const std::optional<bool>& value) {
      return value ? std::string(*value ? "1" : "0") : std::string();
    };
    table.csv->rows.push_back(
        {row.device.name, row.device.simulated ? "1" : "0", row.model, std::to_string(row.batch),
         row.target_method, csv_number(row.target_latency_ms), flag(row.target_reached_precision),
         pomt ? csv_number(100 * pomt->top1) : "", row.method, csv_number(row.latency_ms),
         flag(row.reached_precision), csv_number(100 * row.relative_gap),
         row.within_tolerance ? "1" : "0", csv_number(100 * row.tolerance),
         matched ? csv_number(100 * matched->top1) : "", csv_number(p)});
  }
  return table;
}

}  // namespace tailsweep::report
