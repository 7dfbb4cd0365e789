#include "coordinator/report/cost_tables.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/core.h>

#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/model/token_schedule.h"
#include "common/util/errors.h"
#include "coordinator/report/number_text.h"

namespace tailsweep::report {
namespace {

// A method's tokens per block on a model, or nullopt when this build cannot
// parse either (a report may read a newer sweep's methods).
std::optional<std::vector<int64_t>> block_tokens(const VitConfig& config,
                                                 const std::string& method) {
  try {
    return token_schedule(parse_method_spec(method), config).tokens_into_block;
  } catch (const InputError&) {
    return std::nullopt;
  }
}

std::optional<VitConfig> model_config(const std::string& model) {
  try {
    return parse_model_spec(model);
  } catch (const InputError&) {
    return std::nullopt;
  }
}

// The methods the tables show: the unpruned baseline and every method the
// sweep evaluated; a latency job's candidates for matching (every r of
// Top-K and ToMe) are not, unless a match chose them.
bool shown_method(const ReportData& data, const std::string& model, const std::string& method) {
  return method == "none" ||
         std::any_of(data.evaluations.begin(), data.evaluations.end(), [&](const EvaluationRow& e) {
           return e.model == model && e.method == method;
         });
}

}  // namespace

std::string tokens_per_block_text(const std::vector<int64_t>& tokens) {
  std::string text;
  for (std::size_t i = 0; i < tokens.size();) {
    std::size_t run = 1;
    while (i + run < tokens.size() && tokens[i + run] == tokens[i]) ++run;
    if (!text.empty()) text += ", ";
    text += run == 1 ? std::to_string(tokens[i]) : fmt::format("{}x{}", tokens[i], run);
    i += run;
  }
  return text;
}

Table cost_table(const ReportData& data) {
  Table table{"cost",
              "Work per method, from the model's shape (no device): the tokens each block "
              "computes on, and GFLOPs per image (the GEMMs and the two attention products; "
              "what HDP skips is not counted) with the change against none",
              {"model", "method", "tokens per block", "GFLOPs per image", "vs none (%)"},
              {}};
  table.csv = Grid{{"model", "method", "tokens_per_block", "mean_tokens_per_block",
                    "gflops_per_image", "gflops_change_percent"},
                   {}};
  std::set<std::tuple<std::string, int, std::string>> methods;  // model, paper order, method
  for (const EvaluationRow& row : data.evaluations) {
    methods.insert({row.model, method_rank(row.method), row.method});
  }
  for (const MethodLatencyRow& row : data.method_latencies) {
    if (shown_method(data, row.model, row.method)) {
      methods.insert({row.model, method_rank(row.method), row.method});
    }
  }
  for (const auto& [model, rank, method] : methods) {
    const std::optional<VitConfig> config = model_config(model);
    if (!config) continue;
    const std::optional<std::vector<int64_t>> tokens = block_tokens(*config, method);
    const std::optional<std::vector<int64_t>> full = block_tokens(*config, "none");
    if (!tokens || !full) continue;
    const double gflops = config->forward_flops(1, *tokens) / 1e9;
    const double change = 100 * (gflops / (config->forward_flops(1, *full) / 1e9) - 1);
    double mean = 0;
    for (const int64_t count : *tokens) mean += static_cast<double>(count);
    mean /= static_cast<double>(std::max<std::size_t>(tokens->size(), 1));
    std::string list;
    for (const int64_t count : *tokens) {
      if (!list.empty()) list += ' ';
      list += std::to_string(count);
    }
    table.rows.push_back({model, method, tokens_per_block_text(*tokens),
                          significant_text(gflops, 3), fmt::format("{:+.1f}", change)});
    table.csv->rows.push_back(
        {model, method, list, csv_number(mean), csv_number(gflops), csv_number(change)});
  }
  return table;
}

Table throughput_table(const ReportData& data) {
  Table table{"throughput",
              "Throughput at the largest batch each device timed: images/s from the latency on "
              "the paired scale, and the change against none as the paired ratio's inverse (± "
              "95% CI)",
              {"device", "model", "batch", "method", "images/s", "vs none"},
              {}};
  table.csv = Grid{{"device", "simulated", "model", "batch", "method", "images_per_s",
                    "change_percent", "change_ci95_low_percent", "change_ci95_high_percent"},
                   {}};
  std::map<std::pair<std::string, std::string>, int64_t> largest;  // (device, model) -> batch
  for (const MethodLatencyRow& row : data.method_latencies) {
    int64_t& batch = largest[{row.device.name, row.model}];
    batch = std::max(batch, row.batch);
  }
  // A later row of a method wins, as everywhere in the report.
  std::map<std::tuple<bool, std::string, std::string, int, std::string>, const MethodLatencyRow*>
      rows;
  std::map<std::pair<std::string, std::string>, const MethodLatencyRow*> baselines;
  for (const MethodLatencyRow& row : data.method_latencies) {
    if (row.batch != largest[{row.device.name, row.model}]) continue;
    if (!shown_method(data, row.model, row.method)) continue;
    rows[{row.device.simulated, row.device.name, row.model, method_rank(row.method), row.method}] =
        &row;
    if (row.method == "none") baselines[{row.device.name, row.model}] = &row;
  }
  for (const auto& [key, row] : rows) {
    const auto baseline = baselines.find({row->device.name, row->model});
    const MethodLatencyRow* none = baseline == baselines.end() ? nullptr : baseline->second;
    // On the paired scale: the ratio to none times none's median.
    const double ms = row->ratio && none ? *row->ratio * none->median_ms : row->median_ms;
    const double images_per_s = ms > 0 ? 1000.0 * static_cast<double>(row->batch) / ms : 0;
    std::string change;
    std::optional<double> change_percent, low_percent, high_percent;
    if (row->ratio && row != none) {
      // Throughput is the inverse of latency: 1/ratio, its CI from the other bounds.
      const auto inverse = [](const std::optional<double>& value) -> std::optional<double> {
        return value && *value > 0 ? std::optional(1 / *value) : std::nullopt;
      };
      change = ratio_change_text(1 / *row->ratio, inverse(row->ratio_ci95_high),
                                 inverse(row->ratio_ci95_low));
      change_percent = 100 * (1 / *row->ratio - 1);
      if (const auto high = inverse(row->ratio_ci95_low)) high_percent = 100 * (*high - 1);
      if (const auto low = inverse(row->ratio_ci95_high)) low_percent = 100 * (*low - 1);
    }
    table.rows.push_back({device_label(row->device), row->model, std::to_string(row->batch),
                          row->method, significant_text(images_per_s, 3), change});
    table.csv->rows.push_back({row->device.name, row->device.simulated ? "1" : "0", row->model,
                               std::to_string(row->batch), row->method, csv_number(images_per_s),
                               csv_number(change_percent), csv_number(low_percent),
                               csv_number(high_percent)});
  }
  return table;
}

}  // namespace tailsweep::report
