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

std::vector<CostRow> cost_rows(const ReportData& data) {
  std::set<std::tuple<std::string, int, std::string>> methods;  // model, paper order, method
  for (const EvaluationRow& row : data.evaluations) {
    methods.insert({row.model, method_rank(row.method), row.method});
  }
  for (const MethodLatencyRow& row : data.method_latencies) {
    if (shown_method(data, row.model, row.method)) {
      methods.insert({row.model, method_rank(row.method), row.method});
    }
  }
  std::vector<CostRow> rows;
  for (const auto& [model, rank, method] : methods) {
    const std::optional<VitConfig> config = model_config(model);
    if (!config) continue;
    const std::optional<std::vector<int64_t>> tokens = block_tokens(*config, method);
    const std::optional<std::vector<int64_t>> full = block_tokens(*config, "none");
    if (!tokens || !full) continue;
    CostRow row;
    row.model = model;
    row.method = method;
    row.tokens_per_block = *tokens;
    row.gflops_per_image = config->forward_flops(1, *tokens) / 1e9;
    row.gflops_change_percent =
        100 * (row.gflops_per_image / (config->forward_flops(1, *full) / 1e9) - 1);
    for (const int64_t count : *tokens) row.mean_tokens_per_block += static_cast<double>(count);
    row.mean_tokens_per_block /= static_cast<double>(std::max<std::size_t>(tokens->size(), 1));
    rows.push_back(std::move(row));
  }
  return rows;
}

Table cost_table(const std::vector<CostRow>& rows) {
  Table table{"cost",
              "Work per method, from the model's shape (no device): the tokens each block "
              "computes on, and GFLOPs per image (the GEMMs and the two attention products; "
              "what HDP skips is not counted) with the change against none",
              {"model", "method", "tokens per block", "GFLOPs per image", "vs none (%)"},
              {}};
  table.csv = Grid{{"model", "method", "tokens_per_block", "mean_tokens_per_block",
                    "gflops_per_image", "gflops_change_percent"},
                   {}};
  for (const CostRow& row : rows) {
    std::string list;
    for (const int64_t count : row.tokens_per_block) {
      if (!list.empty()) list += ' ';
      list += std::to_string(count);
    }
    table.rows.push_back({row.model, row.method, tokens_per_block_text(row.tokens_per_block),
                          significant_text(row.gflops_per_image, 3),
                          fmt::format("{:+.1f}", row.gflops_change_percent)});
    table.csv->rows.push_back({row.model, row.method, list, csv_number(row.mean_tokens_per_block),
                               csv_number(row.gflops_per_image),
                               csv_number(row.gflops_change_percent)});
  }
  return table;
}

std::vector<ThroughputRow> throughput_rows(const ReportData& data) {
  std::map<std::pair<std::string, std::string>, int64_t> largest;  // (device, model) -> batch
  for (const MethodLatencyRow& row : data.method_latencies) {
    int64_t& batch = largest[{row.device.name, row.model}];
    batch = std::max(batch, row.batch);
  }
  // A later row of a method wins, as everywhere in the report.
  std::map<std::tuple<bool, std::string, std::string, int, std::string>, const MethodLatencyRow*>
      latest;
  std::map<std::pair<std::string, std::string>, const MethodLatencyRow*> baselines;
  for (const MethodLatencyRow& row : data.method_latencies) {
    if (row.batch != largest[{row.device.name, row.model}]) continue;
    if (!shown_method(data, row.model, row.method)) continue;
    latest[{row.device.simulated, row.device.name, row.model, method_rank(row.method),
            row.method}] = &row;
    if (row.method == "none") baselines[{row.device.name, row.model}] = &row;
  }
  std::vector<ThroughputRow> rows;
  for (const auto& [key, row] : latest) {
    const auto baseline = baselines.find({row->device.name, row->model});
    const MethodLatencyRow* none = baseline == baselines.end() ? nullptr : baseline->second;
    // On the paired scale: the ratio to none times none's median.
    const double ms = row->ratio && none ? *row->ratio * none->median_ms : row->median_ms;
    ThroughputRow out;
    out.device = row->device;
    out.model = row->model;
    out.batch = row->batch;
    out.method = row->method;
    out.images_per_s = ms > 0 ? 1000.0 * static_cast<double>(row->batch) / ms : 0;
    if (row->ratio && row != none) {
      // Throughput is the inverse of latency: 1/ratio, its CI from the other bounds.
      const auto inverse = [](const std::optional<double>& value) -> std::optional<double> {
        return value && *value > 0 ? std::optional(1 / *value) : std::nullopt;
      };
      out.speedup_vs_none = inverse(row->ratio);
      out.speedup_ci95_low = inverse(row->ratio_ci95_high);
      out.speedup_ci95_high = inverse(row->ratio_ci95_low);
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

Table throughput_table(const std::vector<ThroughputRow>& rows) {
  Table table{"throughput",
              "Throughput at the largest batch each device timed: images/s from the latency on "
              "the paired scale, and the change against none as the paired ratio's inverse (± "
              "95% CI)",
              {"device", "model", "batch", "method", "images/s", "vs none"},
              {}};
  table.csv = Grid{{"device", "simulated", "model", "batch", "method", "images_per_s",
                    "change_percent", "change_ci95_low_percent", "change_ci95_high_percent"},
                   {}};
  const auto percent = [](const std::optional<double>& ratio) -> std::optional<double> {
    return ratio ? std::optional(100 * (*ratio - 1)) : std::nullopt;
  };
  for (const ThroughputRow& row : rows) {
    table.rows.push_back(
        {device_label(row.device), row.model, std::to_string(row.batch), row.method,
         significant_text(row.images_per_s, 3),
         row.speedup_vs_none
             ? ratio_change_text(*row.speedup_vs_none, row.speedup_ci95_low, row.speedup_ci95_high)
             : std::string()});
    table.csv->rows.push_back(
        {row.device.name, row.device.simulated ? "1" : "0", row.model, std::to_string(row.batch),
         row.method, csv_number(row.images_per_s), csv_number(percent(row.speedup_vs_none)),
         csv_number(percent(row.speedup_ci95_low)), csv_number(percent(row.speedup_ci95_high))});
  }
  return table;
}

}  // namespace tailsweep::report
