// Table rows for the report. Numbers are formatted here once, so Markdown,
// CSV and LaTeX show the same digits.
#include "coordinator/report/report_tables.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/core.h>

#include "analysis/proportions.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/model/token_schedule.h"
#include "coordinator/report/cost_tables.h"
#include "coordinator/report/design_report.h"
#include "coordinator/report/hdp_report.h"
#include "coordinator/report/number_text.h"
#include "coordinator/report/paper_tables.h"

namespace tailsweep::report {
namespace {

std::string fixed(const std::optional<double>& value, int decimals) {
  return value ? fmt::format("{:.{}f}", *value, decimals) : std::string();
}

std::string signed_fixed(const std::optional<double>& value, int decimals) {
  return value ? fmt::format("{:+.{}f}", *value, decimals) : std::string();
}

std::string_view method_family(std::string_view method) {
  return method.substr(0, method.find(':'));
}

bool same_experiment(const EvaluationRow& a, const EvaluationRow& b) {
  return a.model == b.model && a.dataset == b.dataset && a.split == b.split;
}

// The best 'none' evaluation for row: same device and batch first, then same
// device, then any.
const EvaluationRow* baseline_for(const EvaluationRow& row,
                                  const std::vector<EvaluationRow>& evaluations) {
  const EvaluationRow* best = nullptr;
  int best_score = -1;
  for (const EvaluationRow& candidate : evaluations) {
    if (candidate.method != "none" || !same_experiment(candidate, row)) continue;
    const int score =
        (candidate.device.name == row.device.name ? 2 : 0) + (candidate.batch == row.batch ? 1 : 0);
    if (score > best_score) {
      best = &candidate;
      best_score = score;
    }
  }
  return best;
}

}  // namespace

int method_rank(std::string_view method) {
  const std::string_view family = method_family(method);
  if (family == "none") return 0;
  if (family == "pomt") return 1;
  if (family == "topk") return 2;
  if (family == "tome") return 3;
  return 4;
}

std::optional<double> paired_top1_p(const EvaluationRow& a, const EvaluationRow& b) {
  if (!a.images_sha256 || a.images_sha256 != b.images_sha256 || a.top1_correct.empty() ||
      a.top1_correct.size() != b.top1_correct.size()) {
    return std::nullopt;
  }
  int64_t only_a = 0, only_b = 0;
  for (std::size_t i = 0; i < a.top1_correct.size(); ++i) {
    only_a += a.top1_correct[i] && !b.top1_correct[i];
    only_b += b.top1_correct[i] && !a.top1_correct[i];
  }
  return stats::mcnemar_exact_p(only_a, only_b);
}

std::optional<stats::Interval> top1_interval(const EvaluationRow& row) {
  if (row.images < 1) return std::nullopt;
  const auto right = static_cast<int64_t>(std::llround(row.top1 * static_cast<double>(row.images)));
  return stats::wilson_interval(std::clamp<int64_t>(right, 0, row.images), row.images);
}

int top1_decimals(const EvaluationRow& row) {
  const std::optional<stats::Interval> interval = top1_interval(row);
  if (!interval) return 2;
  return decimals_for_uncertainty(
      100 * std::max(row.top1 - interval->low, interval->high - row.top1), 2);
}

std::string top1_change_text(double change_points, const EvaluationRow& row) {
  return signed_text(change_points, top1_decimals(row));
}

std::string top1_with_interval(const EvaluationRow& row) {
  const std::optional<stats::Interval> interval = top1_interval(row);
  const int decimals = top1_decimals(row);
  if (!interval) return fixed(100 * row.top1, decimals);
  return fmt::format("{:.{}f} [{:.{}f}, {:.{}f}]", 100 * row.top1, decimals, 100 * interval->low,
                     decimals, 100 * interval->high, decimals);
}

std::string p_value_text(std::optional<double> p) {
  if (!p) return "";
  if (*p < 0.001) return "<0.001";
  return fmt::format("{:.3f}{}", *p, *p >= 0.05 ? " (within noise)" : "");
}

std::vector<AccuracyRow> accuracy_rows(const std::vector<EvaluationRow>& evaluations) {
  std::vector<AccuracyRow> rows;
  rows.reserve(evaluations.size());
  for (const EvaluationRow& evaluation : evaluations) {
    AccuracyRow row{evaluation, {}, {}, {}, {}, {}};
    if (const EvaluationRow* baseline = baseline_for(evaluation, evaluations)) {
      row.top1_change_points = 100 * (evaluation.top1 - baseline->top1);
      if (baseline != &evaluation) row.top1_change_p = paired_top1_p(evaluation, *baseline);
      row.top5_change_points = 100 * (evaluation.top5 - baseline->top5);
      if (baseline->device.name == evaluation.device.name && evaluation.latency_median_ms &&
          baseline->latency_median_ms && *baseline->latency_median_ms > 0) {
        row.latency_change_ms = *evaluation.latency_median_ms - *baseline->latency_median_ms;
        row.latency_change_percent = 100 * *row.latency_change_ms / *baseline->latency_median_ms;
      }
    }
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const AccuracyRow& a, const AccuracyRow& b) {
    const EvaluationRow& x = a.evaluation;
    const EvaluationRow& y = b.evaluation;
    return std::forward_as_tuple(x.model, x.dataset, x.split, method_rank(x.method), x.method,
                                 x.device.name) < std::forward_as_tuple(y.model, y.dataset, y.split,
                                                                        method_rank(y.method),
                                                                        y.method, y.device.name);
  });
  return rows;
}

std::string format_steps(const std::vector<schedule::LatencyStep>& steps) {
  if (steps.empty()) return "none";
  std::string text;
  for (const schedule::LatencyStep& step : steps) {
    if (!text.empty()) text += ", ";
    text +=
        fmt::format("{}->{} ({:+.1f} ms)", step.tokens_below, step.tokens_above, step.height_ms);
  }
  return text;
}

std::optional<double> promised_saving(const ScheduleEntry& entry) {
  if (!entry.latency_after_pruning_ms || !entry.unpruned_latency_ms ||
      *entry.unpruned_latency_ms <= 0) {
    return std::nullopt;
  }
  // The curve times the whole model with n tokens in every block. POMT
  // prunes inside block `layer`, after its attention (docs/engine.md), so
  // the blocks before it and that block's attention run on every token;
  // its MLP (about two thirds of a block's work) and the later blocks run
  // on the tokens after pruning. About (depth - layer - 1/3) / depth of the
  // curve's saving is there to take (the patch embedding and the head are
  // small beside the blocks): an approximation, stated in docs/report.md.
  const VitConfig config = parse_model_spec(entry.model);
  const double share = (static_cast<double>(config.depth - entry.layer) - 1.0 / 3.0) /
                       static_cast<double>(config.depth);
  return share * (1 - *entry.latency_after_pruning_ms / *entry.unpruned_latency_ms);
}

std::string curve_validity_text(const ScheduleEntry& entry) {
  if (!entry.curve_points) return "";
  std::string text = *entry.curve_points_below_precision == 0
                         ? fmt::format("all {} reached precision", *entry.curve_points)
                         : fmt::format("{} of {} short of precision",
                                       *entry.curve_points_below_precision, *entry.curve_points);
  if (*entry.curve_points_unstable > 0) {
    text += fmt::format(", {} unstable", *entry.curve_points_unstable);
  }
  if (entry.n_star_reached_precision == false) text += "; n* short of precision !";
  return text;
}

Table schedule_table(const std::vector<ScheduleEntry>& schedules,
                     const std::vector<MethodLatencyRow>& latencies) {
  Table table{
      "schedules",
      "POMT schedules, POMT's own (reference) and step-aligned: the curve at the tokens left "
      "after pruning (or the next count it measured), the saving that promises (scaled by the "
      "blocks after the pruning layer) and the saving the latency job measured (paired ratio, "
      "± 95% CI); ! = measured below half a promise of 2% or more; the curve's points that "
      "stopped short of their precision or were unstable (every point is used)",
      {"device", "model", "batch", "variant", "n*", "R", "layer", "tokens after pruning",
       "latency at n* (ms)", "latency after pruning (ms)", "unpruned (ms)", "promised (%)",
       "measured (%)", "steps", "curve validity"},
      {}};
  table.csv = Grid{{"device",
                    "simulated",
                    "model",
                    "batch",
                    "variant",
                    "n_star",
                    "R",
                    "layer",
                    "tokens_after_pruning",
                    "latency_at_n_star_ms",
                    "latency_after_pruning_ms",
                    "latency_after_pruning_at_tokens",
                    "unpruned_ms",
                    "promised_saving_percent",
                    "measured_saving_percent",
                    "measured_saving_ci95_half_width_percent",
                    "measured_below_half_the_promise",
                    "steps",
                    "curve_points",
                    "curve_points_short_of_precision",
                    "curve_points_unstable",
                    "n_star_reached_precision"},
                   {}};
  for (const ScheduleEntry& entry : schedules) {
    const int64_t after = pomt_tokens_after(entry.tokens_total, entry.r);
    std::string after_ms =
        entry.latency_after_pruning_ms ? latency_ms_text(*entry.latency_after_pruning_ms) : "";
    if (entry.latency_after_pruning_at && *entry.latency_after_pruning_at != after) {
      after_ms += fmt::format(" (at {})", *entry.latency_after_pruning_at);
    }
    const std::optional<double> promised = promised_saving(entry);
    const std::string method =
        to_string(parse_method_spec(fmt::format("pomt:{}@{}", entry.r, entry.layer)));
    const MethodLatencyRow* timed = nullptr;
    for (const MethodLatencyRow& row : latencies) {
      if (row.device.name == entry.device.name && row.model == entry.model &&
          row.batch == entry.batch && row.method == method && row.ratio) {
        timed = &row;  // a later row wins
      }
    }
    std::string measured;
    std::optional<double> saving, half_width;
    bool below_half = false;
    if (timed != nullptr) {
      saving = 100 * (1 - *timed->ratio);
      half_width =
          ratio_ci_half_width_percent(*timed->ratio, timed->ratio_ci95_low, timed->ratio_ci95_high);
      const int decimals = half_width ? decimals_for_uncertainty(*half_width, 2) : 1;
      measured = fmt::format("{:.{}f}", *saving, decimals);
      if (half_width) measured += fmt::format(" ±{:.{}f}", *half_width, decimals);
      below_half = promised && *promised >= 0.02 && *saving / 100 < *promised / 2;
      if (below_half) measured += " !";
    }
    table.rows.push_back(
        {device_label(entry.device), entry.model, std::to_string(entry.batch), entry.variant,
         std::to_string(entry.n_star), std::to_string(entry.r), std::to_string(entry.layer),
         // N - R = n* + 2 for the reference: it can sit just above a step
         // that n* is below; the aligned variant lands below it.
         std::to_string(after),
         entry.latency_at_n_star_ms ? latency_ms_text(*entry.latency_at_n_star_ms) : "", after_ms,
         entry.unpruned_latency_ms ? latency_ms_text(*entry.unpruned_latency_ms) : "",
         promised ? fmt::format("{:.1f}", 100 * *promised) : "", measured,
         format_steps(entry.steps), curve_validity_text(entry)});
    std::string steps;
    for (const schedule::LatencyStep& step : entry.steps) {
      steps +=
          fmt::format("{}{}-{}", steps.empty() ? "" : " ", step.tokens_below, step.tokens_above);
    }
    const auto count = [](const std::optional<int64_t>& value) {
      return value ? std::to_string(*value) : std::string();
    };
    table.csv->rows.push_back(
        {entry.device.name,
         entry.device.simulated ? "1" : "0",
         entry.model,
         std::to_string(entry.batch),
         entry.variant,
         std::to_string(entry.n_star),
         std::to_string(entry.r),
         std::to_string(entry.layer),
         std::to_string(after),
         csv_number(entry.latency_at_n_star_ms),
         csv_number(entry.latency_after_pruning_ms),
         count(entry.latency_after_pruning_at),
         csv_number(entry.unpruned_latency_ms),
         promised ? csv_number(100 * *promised) : "",
         csv_number(saving),
         csv_number(half_width),
         timed != nullptr ? (below_half ? "1" : "0") : "",
         steps,
         count(entry.curve_points),
         count(entry.curve_points_below_precision),
         count(entry.curve_points_unstable),
         entry.n_star_reached_precision ? (*entry.n_star_reached_precision ? "1" : "0") : ""});
  }
  return table;
}

std::string paired_change_text(const std::vector<MethodLatencyRow>& latencies,
                               const std::string& model, const std::string& method,
                               const std::string& device) {
  std::map<int64_t, const MethodLatencyRow*> by_batch;  // a later row of a batch wins
  for (const MethodLatencyRow& row : latencies) {
    if (row.device.name == device && row.model == model && row.method == method && row.ratio) {
      by_batch[row.batch] = &row;
    }
  }
  std::string text;
  for (const auto& [batch, row] : by_batch) {
    if (!text.empty()) text += ", ";
    text += fmt::format("b{} {}", batch,
                        ratio_change_text(*row->ratio, row->ratio_ci95_low, row->ratio_ci95_high));
  }
  return text;
}

std::string latency_job_change(const std::vector<MethodLatencyRow>& latencies,
                               const EvaluationRow& evaluation) {
  return paired_change_text(latencies, evaluation.model, evaluation.method, evaluation.device.name);
}

Table accuracy_table(const std::vector<AccuracyRow>& rows,
                     const std::vector<MethodLatencyRow>& latencies) {
  Table table{
      "accuracy",
      // The latency that compares methods is the latency job's paired ratio
      // (same rounds, same device); an evaluation's own timing, at its own
      // batch and minutes away from the baseline's, is kept but labelled.
      "Accuracy per method, top-1 with its Wilson 95% interval and, against none on the same "
      "images, McNemar's exact p (within noise: p >= 0.05); latency vs none from the latency "
      "job on the same device (paired ratio, ± 95% CI, per batch), and the evaluation's own "
      "timing at its batch",
      {"model", "method", "dataset", "images", "top-1 (%) [95% CI]", "top-1 vs none (pts)",
       "McNemar p vs none", "top-5 (%)", "latency vs none (latency job)", "eval batch",
       "eval latency (ms)", "eval latency vs none (%)", "device"},
      {}};
  table.csv = Grid{
      {"model", "method", "dataset", "split", "images", "top1_percent", "top1_ci95_low_percent",
       "top1_ci95_high_percent", "top1_change_points", "top1_change_mcnemar_p", "top5_percent",
       "eval_batch", "eval_latency_ms", "eval_latency_change_percent", "device", "simulated"},
      {}};
  for (const AccuracyRow& row : rows) {
    const EvaluationRow& e = row.evaluation;
    table.rows.push_back(
        {e.model, e.method, e.dataset + "/" + e.split, std::to_string(e.images),
         top1_with_interval(e),
         row.top1_change_points ? top1_change_text(*row.top1_change_points, e) : "",
         p_value_text(row.top1_change_p), fixed(100 * e.top5, top1_decimals(e)),
         e.method == "none" ? "" : latency_job_change(latencies, e), std::to_string(e.batch),
         e.latency_median_ms ? latency_ms_text(*e.latency_median_ms) : "",
         signed_fixed(row.latency_change_percent, 1), device_label(e.device)});
    const std::optional<stats::Interval> interval = top1_interval(e);
    table.csv->rows.push_back(
        {e.model, e.method, e.dataset, e.split, std::to_string(e.images), csv_number(100 * e.top1),
         interval ? csv_number(100 * interval->low) : "",
         interval ? csv_number(100 * interval->high) : "", csv_number(row.top1_change_points),
         csv_number(row.top1_change_p), csv_number(100 * e.top5), std::to_string(e.batch),
         csv_number(e.latency_median_ms), csv_number(row.latency_change_percent), e.device.name,
         e.device.simulated ? "1" : "0"});
  }
  return table;
}

Table latency_curve_table(const LatencyCurve& curve) {
  Table table{
      fmt::format("latency-{}-{}-b{}", file_slug(curve.device.name), file_slug(curve.model),
                  curve.batch),
      fmt::format("L(n): {} on {}, batch {}", curve.model, device_label(curve.device), curve.batch),
      {kLatencyCurveColumns.begin(), kLatencyCurveColumns.end()},
      {}};
  // Measured medians, then the curve the steps and schedules are read from
  // (the paired curve, in the same order), so that `tailsweep schedule pomt
  // --latency` on this file finds what the report found.
  for (std::size_t i = 0; i < curve.points.size(); ++i) {
    const LatencyPointRow& point = curve.points[i];
    const schedule::LatencyPoint& paired = curve.paired.at(i);
    table.rows.push_back({std::to_string(point.tokens), csv_number(point.median_ms),
                          csv_number(point.ci95_low_ms), csv_number(point.ci95_high_ms),
                          csv_number(paired.median_ms), csv_number(paired.ci_low_ms),
                          csv_number(paired.ci_high_ms)});
  }
  return table;
}

Table accuracy_curve_table(const AccuracyCurve& curve) {
  Table table{fmt::format("accuracy-curve-{}-{}-{}", file_slug(curve.model),
                          file_slug(curve.dataset), file_slug(curve.method)),
              fmt::format("A(n): {} on {}/{}, tokens dropped by {}", curve.model, curve.dataset,
                          curve.split, curve.method),
              {"tokens", "top1", "top5", "images"},
              {}};
  for (const AccuracyPointRow& point : curve.points) {
    table.rows.push_back({std::to_string(point.tokens), csv_number(point.top1),
                          csv_number(point.top5), std::to_string(point.images)});
  }
  return table;
}

Table measurement_table(const std::vector<MeasurementRow>& rows) {
  Table table{"measurement",
              "How each latency was measured: rounds, the sentinel's drift over the run (its "
              "largest round median over its smallest; ! = more than the precision, so compare "
              "by the paired ratios), the highest load average and the mean CPU steal",
              {"device", "job", "kind", "model", "protocol", "rounds", "drift (%)", "precision (%)",
               "max load", "steal (%)"},
              {}};
  table.csv =
      Grid{{"device", "simulated", "job", "kind", "model", "protocol", "rounds", "drift_percent",
            "drift_exceeds_precision", "precision_percent", "max_load_average", "steal_percent"},
           {}};
  for (const MeasurementRow& row : rows) {
    std::string drift;
    if (row.drift) {
      drift = fmt::format("{:.1f}{}", 100 * (*row.drift - 1), row.drift_exceeds_precision ? " !" : "");
    }
    const std::string protocol = row.protocol.substr(0, row.protocol.find(':'));
    table.rows.push_back(
        {device_label(row.device), std::to_string(row.job_id), row.job_kind, row.model, protocol,
         row.rounds ? std::to_string(*row.rounds) : "", drift,
         row.precision ? fmt::format("{:.1f}", 100 * *row.precision) : "",
         row.max_load_average ? fmt::format("{:.2f}", *row.max_load_average) : "",
         row.steal_fraction ? fmt::format("{:.2f}", 100 * *row.steal_fraction) : ""});
    const auto percent = [](const std::optional<double>& fraction, double minus) {
      return fraction ? csv_number(100 * (*fraction - minus)) : std::string();
    };
    table.csv->rows.push_back({row.device.name, row.device.simulated ? "1" : "0",
                               std::to_string(row.job_id), row.job_kind, row.model, protocol,
                               row.rounds ? std::to_string(*row.rounds) : "", percent(row.drift, 1),
                               row.drift ? (row.drift_exceeds_precision ? "1" : "0") : "",
                               percent(row.precision, 0), csv_number(row.max_load_average),
                               percent(row.steal_fraction, 0)});
  }
  return table;
}

Table clustering_table(const std::vector<ClusteringRow>& rows) {
  Table table{"clustering",
              "Weight clustering (Tabani et al., reconstructed as Deep Compression's weight "
              "sharing: docs/cluster.md)",
              {"model", "dataset", "split", "clusters", "top-1 %", "change (points)",
               "tensor MB (dense)", "tensor MB (clustered)", "smaller", "images", "device",
               "codebooks (SHA-256)"},
              {}};
  table.csv = Grid{{"model", "dataset", "split", "clusters", "top1_percent", "change_points",
                    "dense_tensor_bytes", "clustered_tensor_bytes", "smaller", "images", "device",
                    "codebooks_sha256"},
                   {}};
  for (const ClusteringRow& row : rows) {
    const std::optional<double> change =
        row.dense_top1 ? std::optional(100 * (row.top1 - *row.dense_top1)) : std::nullopt;
    table.csv->rows.push_back({row.model, row.dataset, row.split, std::to_string(row.clusters),
                               csv_number(100 * row.top1), csv_number(change),
                               std::to_string(row.dense_tensor_bytes),
                               std::to_string(row.clustered_tensor_bytes),
                               csv_number(static_cast<double>(row.dense_tensor_bytes) /
                                          static_cast<double>(row.clustered_tensor_bytes)),
                               std::to_string(row.images), row.device.name, row.weights_sha256});
    table.rows.push_back(
        {row.model, row.dataset, row.split, std::to_string(row.clusters),
         fmt::format("{:.2f}", 100 * row.top1), change ? fmt::format("{:+.2f}", *change) : "",
         fmt::format("{:.3f}", row.dense_tensor_bytes / 1e6),
         fmt::format("{:.3f}", row.clustered_tensor_bytes / 1e6),
         fmt::format("{:.2f}x", static_cast<double>(row.dense_tensor_bytes) /
                                    static_cast<double>(row.clustered_tensor_bytes)),
         std::to_string(row.images), device_label(row.device), row.weights_sha256.substr(0, 12)});
  }
  return table;
}

std::string megabytes(const std::optional<int64_t>& bytes) {
  return bytes ? fmt::format("{:.3f}", static_cast<double>(*bytes) / 1e6) : "";
}

std::string joules(const std::optional<double>& value) {
  return value ? fmt::format("{:.4g}", *value) : "";
}

Table clustering_latency_table(const std::vector<ClusteringLatencyRow>& rows) {
  Table table{"clustering_latency",
              "Weight clustering on each device: the clustered model against the dense one, "
              "timed in the same rounds (change: paired, to the dense none of the batch, ± its "
              "95% CI; ! = short of the precision asked)",
              {"model", "device", "batch", "method", "clusters", "kernel", "dense ms",
               "clustered ms", "change", "weight MB read (dense)", "weight MB read (clustered)",
               "J/image (dense)", "J/image (clustered)", "no energy because"},
              {}};
  table.csv = Grid{{"model", "device", "simulated", "batch", "method", "clusters", "kernel",
                    "dense_ms", "clustered_ms", "change_percent", "change_ci95_half_width_percent",
                    "reached_precision", "weight_bytes_read_dense", "weight_bytes_read_clustered",
                    "joules_per_image_dense", "joules_per_image_clustered", "no_energy_because"},
                   {}};
  for (const ClusteringLatencyRow& row : rows) {
    const auto bytes = [](const std::optional<int64_t>& value) {
      return value ? std::to_string(*value) : std::string();
    };
    table.csv->rows.push_back(
        {row.model, row.device.name, row.device.simulated ? "1" : "0", std::to_string(row.batch),
         row.method, std::to_string(row.clusters), row.weight_kernel,
         csv_number(row.dense_median_ms), csv_number(row.median_ms),
         row.ratio ? csv_number(100 * (*row.ratio - 1)) : "",
         row.ratio ? csv_number(ratio_ci_half_width_percent(*row.ratio, row.ratio_ci95_low,
                                                            row.ratio_ci95_high))
                   : "",
         row.reached_precision ? "1" : "0", bytes(row.dense_weight_bytes), bytes(row.weight_bytes),
         csv_number(row.dense_joules_per_image), csv_number(row.joules_per_image),
         row.joules_per_image ? "" : row.power_null_reason.value_or("")});
    table.rows.push_back(
        {row.model, device_label(row.device), std::to_string(row.batch), row.method,
         std::to_string(row.clusters), row.weight_kernel,
         row.dense_median_ms ? latency_ms_text(*row.dense_median_ms) : "",
         latency_ms_text(row.median_ms),
         row.ratio ? ratio_change_text(*row.ratio, row.ratio_ci95_low, row.ratio_ci95_high) +
                         (row.reached_precision ? "" : " !")
                   : "",
         megabytes(row.dense_weight_bytes), megabytes(row.weight_bytes),
         joules(row.dense_joules_per_image), joules(row.joules_per_image),
         row.joules_per_image ? "" : row.power_null_reason.value_or("")});
  }
  return table;
}

std::vector<Table> report_tables(const ReportData& data) {
  std::vector<Table> tables = paper_tables(data);
  if (!data.matched.empty()) tables.push_back(matched_table(data));
  if (!data.method_latencies.empty()) tables.push_back(throughput_table(throughput_rows(data)));
  tables.push_back(schedule_table(data.schedules, data.method_latencies));
  tables.push_back(accuracy_table(accuracy_rows(data.evaluations), data.method_latencies));
  if (!data.evaluations.empty() || !data.method_latencies.empty()) {
    tables.push_back(cost_table(cost_rows(data)));
  }
  if (!data.measurements.empty()) tables.push_back(measurement_table(data.measurements));
  if (!data.clustering.empty()) tables.push_back(clustering_table(data.clustering));
  if (!data.clustering_latency.empty()) {
    tables.push_back(clustering_latency_table(data.clustering_latency));
  }
  if (std::any_of(data.evaluations.begin(), data.evaluations.end(),
                  [](const EvaluationRow& row) { return row.hdp.has_value(); })) {
    tables.push_back(hdp_table(accuracy_rows(data.evaluations), data.method_latencies));
  }
  for (Table& table : design_tables(data)) tables.push_back(std::move(table));
  for (const LatencyCurve& curve : data.latency_curves)
    tables.push_back(latency_curve_table(curve));
  for (const AccuracyCurve& curve : data.accuracy_curves) {
    tables.push_back(accuracy_curve_table(curve));
  }
  return tables;
}

std::string file_slug(std::string_view text) {
  std::string slug(text);
  for (char& c : slug) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '_';
    if (!safe) c = '_';
  }
  if (slug.empty() || slug.front() == '.') slug.insert(slug.begin(), '_');
  return slug;
}

}  // namespace tailsweep::report
