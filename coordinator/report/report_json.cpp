#include "coordinator/report/report_json.h"

#include <optional>

#include "coordinator/report/cost_tables.h"
#include "coordinator/report/hdp_report.h"
#include "coordinator/report/report_formats.h"
#include "coordinator/report/report_tables.h"

namespace tailsweep::report {
namespace {

using nlohmann::json;

template <typename T>
json or_null(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json device_json(const DeviceRef& device) {
  return {{"name", device.name}, {"simulated", device.simulated}};
}

json steps_json(const std::vector<schedule::LatencyStep>& steps) {
  json array = json::array();
  for (const schedule::LatencyStep& step : steps) {
    array.push_back({{"tokens_below", step.tokens_below},
                     {"tokens_above", step.tokens_above},
                     {"below_ms", step.below_ms},
                     {"above_ms", step.above_ms},
                     {"height_ms", step.height_ms},
                     {"height_fraction", step.height_fraction},
                     {"saved_from_full_ms", step.saved_from_full_ms}});
  }
  return array;
}

json provenance_json(const Provenance& p) {
  json devices = json::array();
  for (const DeviceRef& device : p.devices) devices.push_back(device_json(device));
  return {{"sweep_id", p.sweep_id},
          {"sweep_name", p.sweep_name},
          {"state", p.sweep_state},
          {"created_at_s", p.created_at_s},
          {"created_at_utc", format_utc(p.created_at_s)},
          {"finished_at_s", or_null(p.finished_at_s)},
          {"finished_at_utc", p.finished_at_s ? json(format_utc(*p.finished_at_s)) : json(nullptr)},
          {"devices", devices},
          {"git_shas", p.git_shas},
          {"agent_versions", p.agent_versions},
          {"generated_at_utc", p.generated_at_utc},
          {"tailsweep_git_sha", p.tailsweep_git_sha}};
}

json schedules_json(const std::vector<ScheduleEntry>& schedules) {
  json array = json::array();
  for (const ScheduleEntry& entry : schedules) {
    std::optional<double> saved_ms;
    if (entry.latency_at_n_star_ms && entry.unpruned_latency_ms) {
      saved_ms = *entry.unpruned_latency_ms - *entry.latency_at_n_star_ms;
    }
    array.push_back({{"device", device_json(entry.device)},
                     {"model", entry.model},
                     {"batch", entry.batch},
                     {"alpha", entry.alpha},
                     {"tokens_total", entry.tokens_total},
                     {"n_star", entry.n_star},
                     {"r", entry.r},
                     {"layer", entry.layer},
                     {"latency_at_n_star_ms", or_null(entry.latency_at_n_star_ms)},
                     {"unpruned_latency_ms", or_null(entry.unpruned_latency_ms)},
                     {"saved_ms", or_null(saved_ms)},
                     {"steps", steps_json(entry.steps)},
                     {"variant", entry.variant},
                     {"curve_points", or_null(entry.curve_points)},
                     {"curve_points_below_precision", or_null(entry.curve_points_below_precision)},
                     {"curve_points_unstable", or_null(entry.curve_points_unstable)},
                     {"n_star_reached_precision", or_null(entry.n_star_reached_precision)}});
  }
  return array;
}

json evaluations_json(const std::vector<EvaluationRow>& evaluations) {
  json array = json::array();
  for (const AccuracyRow& row : accuracy_rows(evaluations)) {
    const EvaluationRow& e = row.evaluation;
    const std::optional<stats::Interval> interval = top1_interval(e);
    array.push_back(
        {{"model", e.model},
         {"method", e.method},
         {"dataset", e.dataset},
         {"split", e.split},
         {"images", e.images},
         {"batch", e.batch},
         {"top1", e.top1},
         {"top1_ci95", interval ? json::array({interval->low, interval->high}) : json(nullptr)},
         {"top5", e.top5},
         {"images_sha256", or_null(e.images_sha256)},
         {"latency_median_ms", or_null(e.latency_median_ms)},
         {"device", device_json(e.device)},
         {"top1_change_points", or_null(row.top1_change_points)},
         {"top1_change_mcnemar_p", or_null(row.top1_change_p)},
         {"top5_change_points", or_null(row.top5_change_points)},
         {"latency_change_ms", or_null(row.latency_change_ms)},
         {"latency_change_percent", or_null(row.latency_change_percent)},
         {"attention_work_skipped", or_null(attention_work_skipped(e))},
         {"hdp", e.hdp ? json{{"heads_pruned_share", e.hdp->heads_pruned},
                              {"blocks_pruned_share", e.hdp->blocks_pruned},
                              {"attention_macs_skipped_share", e.hdp->attention_macs_skipped}}
                       : json(nullptr)}});
  }
  return array;
}

json latency_curves_json(const std::vector<LatencyCurve>& curves) {
  json array = json::array();
  for (const LatencyCurve& curve : curves) {
    json points = json::array();
    for (const LatencyPointRow& point : curve.points) {
      points.push_back({{"tokens", point.tokens},
                        {"median_ms", point.median_ms},
                        {"median_ci95_low_ms", or_null(point.ci95_low_ms)},
                        {"median_ci95_high_ms", or_null(point.ci95_high_ms)},
                        {"ratio", or_null(point.ratio)},
                        {"ratio_ci95_low", or_null(point.ratio_ci95_low)},
                        {"ratio_ci95_high", or_null(point.ratio_ci95_high)},
                        {"ratio_to_tokens", or_null(point.ratio_to_tokens)}});
    }
    array.push_back({{"device", device_json(curve.device)},
                     {"model", curve.model},
                     {"batch", curve.batch},
                     {"points", points},
                     {"steps", steps_json(curve.steps)}});
  }
  return array;
}

json accuracy_curves_json(const std::vector<AccuracyCurve>& curves) {
  json array = json::array();
  for (const AccuracyCurve& curve : curves) {
    json points = json::array();
    for (const AccuracyPointRow& point : curve.points) {
      points.push_back({{"tokens", point.tokens},
                        {"top1", point.top1},
                        {"top5", point.top5},
                        {"images", point.images}});
    }
    array.push_back({{"model", curve.model},
                     {"dataset", curve.dataset},
                     {"split", curve.split},
                     {"method", curve.method},
                     {"points", points}});
  }
  return array;
}

json method_latencies_json(const std::vector<MethodLatencyRow>& rows) {
  json array = json::array();
  for (const MethodLatencyRow& row : rows) {
    array.push_back({{"device", device_json(row.device)},
                     {"model", row.model},
                     {"batch", row.batch},
                     {"method", row.method},
                     {"median_ms", row.median_ms},
                     {"reached_precision", row.reached_precision},
                     {"ratio_to_none", or_null(row.ratio)},
                     {"ratio_ci95_low", or_null(row.ratio_ci95_low)},
                     {"ratio_ci95_high", or_null(row.ratio_ci95_high)},
                     {"hdp_heads_pruned_share", or_null(row.hdp_heads_pruned_share)}});
  }
  return array;
}

json measurements_json(const std::vector<MeasurementRow>& rows) {
  json array = json::array();
  for (const MeasurementRow& row : rows) {
    array.push_back({{"device", device_json(row.device)},
                     {"job_id", row.job_id},
                     {"job_kind", row.job_kind},
                     {"model", row.model},
                     {"protocol", row.protocol},
                     {"rounds", or_null(row.rounds)},
                     {"drift", or_null(row.drift)},
                     {"drift_exceeds_precision", row.drift_exceeds_precision},
                     {"precision", or_null(row.precision)},
                     {"max_load_average", or_null(row.max_load_average)},
                     {"steal_fraction", or_null(row.steal_fraction)}});
  }
  return array;
}

json matched_json(const std::vector<MatchedRow>& rows) {
  json array = json::array();
  for (const MatchedRow& row : rows) {
    array.push_back({{"device", device_json(row.device)},
                     {"model", row.model},
                     {"batch", row.batch},
                     {"target_method", row.target_method},
                     {"target_latency_ms", row.target_latency_ms},
                     {"family", row.family},
                     {"method", row.method},
                     {"latency_ms", row.latency_ms},
                     {"relative_gap", row.relative_gap},
                     {"within_tolerance", row.within_tolerance},
                     {"tolerance", row.tolerance},
                     {"target_reached_precision", or_null(row.target_reached_precision)},
                     {"reached_precision", or_null(row.reached_precision)}});
  }
  return array;
}

json clustering_json(const std::vector<ClusteringRow>& rows) {
  json array = json::array();
  for (const ClusteringRow& row : rows) {
    array.push_back({{"model", row.model},
                     {"dataset", row.dataset},
                     {"split", row.split},
                     {"clusters", row.clusters},
                     {"top1", row.top1},
                     {"dense_top1", row.dense_top1 ? json(*row.dense_top1) : json(nullptr)},
                     {"images", row.images},
                     {"dense_tensor_bytes", row.dense_tensor_bytes},
                     {"clustered_tensor_bytes", row.clustered_tensor_bytes},
                     {"clustered_weights_sha256", row.weights_sha256},
                     {"device", row.device.name}});
  }
  return array;
}

json clustering_latency_json(const std::vector<ClusteringLatencyRow>& rows) {
  json array = json::array();
  for (const ClusteringLatencyRow& row : rows) {
    array.push_back(
        {{"model", row.model},
         {"device", row.device.name},
         {"simulated", row.device.simulated},
         {"batch", row.batch},
         {"method", row.method},
         {"clusters", row.clusters},
         {"weight_kernel", row.weight_kernel.empty() ? json(nullptr) : json(row.weight_kernel)},
         {"median_ms", row.median_ms},
         {"dense_median_ms", or_null(row.dense_median_ms)},
         {"ratio", or_null(row.ratio)},
         {"ratio_ci95_low", or_null(row.ratio_ci95_low)},
         {"ratio_ci95_high", or_null(row.ratio_ci95_high)},
         {"reached_precision", row.reached_precision},
         {"weight_bytes_per_forward", or_null(row.weight_bytes)},
         {"dense_weight_bytes_per_forward", or_null(row.dense_weight_bytes)},
         {"joules_per_image", or_null(row.joules_per_image)},
         {"dense_joules_per_image", or_null(row.dense_joules_per_image)},
         {"power_null_reason", or_null(row.power_null_reason)}});
  }
  return array;
}

// The design space's architectures and its surrogates' fits (design_report.h).
json design_space_json(const ReportData& data) {
  json architectures = json::array();
  for (const ArchitectureRow& row : data.architectures) {
    architectures.push_back({{"device", device_json(row.device)},
                             {"architecture_id", row.id},
                             {"layers", row.layers},
                             {"parameters", row.parameters},
                             {"flops_per_input", row.flops_per_input},
                             {"batch", row.batch},
                             {"ms_per_input", row.ms_per_input},
                             {"reached_precision", row.reached_precision},
                             {"joules_per_input", or_null(row.joules_per_input)},
                             {"peak_w", or_null(row.peak_w)},
                             {"power_null_reason", or_null(row.power_null_reason)}});
  }
  json fits = json::array();
  for (const SurrogateFitRow& fit : data.surrogate_fits) {
    fits.push_back({{"device", device_json(fit.device)},
                    {"selection", fit.selection},
                    {"target", fit.target},
                    {"step", fit.step},
                    {"samples", fit.samples},
                    {"nmse", or_null(fit.nmse)},
                    {"converged", fit.converged},
                    {"null_reason", or_null(fit.null_reason)}});
  }
  return {{"architectures", architectures}, {"surrogate_fits", fits}};
}

json cost_json(const std::vector<CostRow>& rows) {
  json array = json::array();
  for (const CostRow& row : rows) {
    array.push_back({{"model", row.model},
                     {"method", row.method},
                     {"tokens_per_block", row.tokens_per_block},
                     {"mean_tokens_per_block", row.mean_tokens_per_block},
                     {"gflops_per_image", row.gflops_per_image},
                     {"gflops_change_percent", row.gflops_change_percent}});
  }
  return array;
}

json throughput_json(const std::vector<ThroughputRow>& rows) {
  json array = json::array();
  for (const ThroughputRow& row : rows) {
    array.push_back({{"device", device_json(row.device)},
                     {"model", row.model},
                     {"batch", row.batch},
                     {"method", row.method},
                     {"images_per_s", row.images_per_s},
                     {"speedup_vs_none", or_null(row.speedup_vs_none)},
                     {"speedup_ci95_low", or_null(row.speedup_ci95_low)},
                     {"speedup_ci95_high", or_null(row.speedup_ci95_high)}});
  }
  return array;
}

}  // namespace

json report_json(const ReportData& data) {
  return {{"provenance", provenance_json(data.provenance)},
          {"missing", data.missing},
          {"schedules", schedules_json(data.schedules)},
          {"evaluations", evaluations_json(data.evaluations)},
          {"clustering", clustering_json(data.clustering)},
          {"clustering_latency", clustering_latency_json(data.clustering_latency)},
          {"method_latencies", method_latencies_json(data.method_latencies)},
          {"matched", matched_json(data.matched)},
          {"measurements", measurements_json(data.measurements)},
          {"latency_curves", latency_curves_json(data.latency_curves)},
          {"accuracy_curves", accuracy_curves_json(data.accuracy_curves)},
          {"cost", cost_json(cost_rows(data))},
          {"throughput", throughput_json(throughput_rows(data))},
          {"design_space", design_space_json(data)}};
}

}  // namespace tailsweep::report
