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
  bool varies = false;  // the cells name their method
};

// "1.90 (-15.2% ±0.8)": the median, and the change against the unpruned
// run as the paired ratio of the same rounds with its 95% CI half-width.
// A row measured before rounds (no ratio) shows the difference of medians,
// marked "unpaired".
std::string latency_cell(const MethodLatencyRow* row, const MethodLatencyRow* baseline) {
  if (row == nullptr) return "";
  if (baseline == nullptr || row == baseline) return fmt::format("{:.2f}", row->median_ms);
  if (row->ratio) {
    if (!row->ratio_ci95_low || !row->ratio_ci95_high) {
      return fmt::format("{:.2f} ({:+.1f}%, no CI)", row->median_ms, 100 * (*row->ratio - 1));
    }
    return fmt::format("{:.2f} ({:+.1f}%{})", row->median_ms, 100 * (*row->ratio - 1),
                       ratio_ci_text(row->ratio, row->ratio_ci95_low, row->ratio_ci95_high));
  }
  return fmt::format("{:.2f} ({:+.1f}% unpaired)", row->median_ms,
                     100 * (row->median_ms - baseline->median_ms) / baseline->median_ms);
}

// "87.80 (-0.92)", with " ns" when McNemar's test on the same images finds
// the change within noise (p >= 0.05).
std::string top1_cell(const EvaluationRow* row, const EvaluationRow* baseline) {
  if (row == nullptr) return "";
  if (baseline == nullptr || baseline == row) return fmt::format("{:.2f}", 100 * row->top1);
  const std::optional<double> p = paired_top1_p(*row, *baseline);
  return fmt::format("{:.2f} ({:+.2f}{})", 100 * row->top1, 100 * (row->top1 - baseline->top1),
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
         true});
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
  for (const auto& [rank, method] : fixed) {
    rows.push_back(
        {method, [method](const DeviceRef&) { return std::optional<std::string>(method); }});
  }

  Table table{fmt::format("paper-{}-b{}", file_slug(model), batch),
              fmt::format("{}, batch {}: latency (ms; change against each device's unpruned "
                          "run as the paired ratio of the same rounds, ± its 95% CI) and top-1 "
                          "(%, change in points), per device; * = more than the tolerance from "
                          "POMT's latency",
                          model, batch),
              {"method"},
              {}};
  for (const DeviceRef& device : devices) {
    table.columns.push_back(device_label(device) + " latency");
    table.columns.push_back(device_label(device) + " top-1");
  }
  const EvaluationRow* baseline_eval = evaluation_of(data, model, "none");
  for (const PaperRow& paper_row : rows) {
    std::vector<std::string> cells = {paper_row.label};
    bool any = false;
    for (const DeviceRef& device : devices) {
      const std::optional<std::string> shown = paper_row.method(device);
      if (!shown) {
        cells.insert(cells.end(), {"", ""});
        continue;
      }
      const std::string method = shown->substr(0, shown->find(' '));
      const MethodLatencyRow* ms = latency_row(data, device.name, model, batch, method);
      const MethodLatencyRow* baseline = latency_row(data, device.name, model, batch, "none");
      std::string latency = latency_cell(ms, baseline);
      if (paper_row.varies && !latency.empty()) latency = *shown + ": " + latency;
      const EvaluationRow* evaluation = evaluation_of(data, model, method);
      cells.push_back(latency);
      cells.push_back(top1_cell(evaluation, baseline_eval));
      any = any || ms != nullptr || evaluation != nullptr;
    }
    if (any) table.rows.push_back(std::move(cells));
  }
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
  for (const MatchedRow& row : data.matched) {
    const EvaluationRow* pomt = evaluation_of(data, row.model, row.target_method);
    const EvaluationRow* matched = evaluation_of(data, row.model, row.method);
    const auto pomt_top1 = pomt ? std::optional(pomt->top1) : std::nullopt;
    const auto top1 = matched ? std::optional(matched->top1) : std::nullopt;
    table.rows.push_back(
        {device_label(row.device), row.model, std::to_string(row.batch), row.target_method,
         fmt::format("{:.2f}{}", row.target_latency_ms, short_mark(row.target_reached_precision)),
         pomt_top1 ? fmt::format("{:.2f}", 100 * *pomt_top1) : "", row.method,
         fmt::format("{:.2f}{}", row.latency_ms, short_mark(row.reached_precision)),
         fmt::format("{:+.1f}", 100 * row.relative_gap),
         row.within_tolerance ? "yes" : fmt::format("no (> {:.0f}%)", 100 * row.tolerance),
         top1 ? fmt::format("{:.2f}", 100 * *top1) : "",
         pomt && matched ? p_value_text(paired_top1_p(*matched, *pomt)) : ""});
  }
  return table;
}

}  // namespace tailsweep::report
