// The agent's side of the result documents: the structs of
// result_document.h written as JSON, always at kResultSchemaVersion. A
// writer's output must read back strictly (result_document_test checks it).
#include <cmath>

#include <nlohmann/json.hpp>

#include "common/wire/result_document.h"

namespace tailsweep::protocol {
namespace {

using nlohmann::json;

template <typename T>
json or_null(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

// 6 significant digits (result_document.h): 12.3456789 -> 12.3457.
double six_significant_digits(double value) {
  if (value == 0 || !std::isfinite(value)) return value;
  const double scale = std::pow(10.0, 5 - std::floor(std::log10(std::abs(value))));
  const double rounded = std::round(value * scale) / scale;
  return std::isfinite(rounded) ? rounded : value;  // subnormal or huge: as it is
}

json counts_json(const HdpCounts& c) {
  return {{"heads", c.heads},
          {"heads_pruned", c.heads_pruned},
          {"heads_pruned_share", c.heads_pruned_share()},
          {"blocks", c.blocks},
          {"blocks_pruned", c.blocks_pruned},
          {"blocks_pruned_share", c.blocks_pruned_share()},
          {"attention_macs", c.macs},
          {"attention_macs_skipped", c.macs_skipped},
          {"attention_macs_skipped_share", c.macs_skipped_share()},
          {"frac_macs_dropped", c.frac_macs_dropped},
          {"int_macs", c.int_macs}};
}

void put_provenance(json& out, const BodyProvenance& p) {
  out["tool"] = or_null(p.tool);
  out["version"] = or_null(p.version);
  out["git_sha"] = or_null(p.git_sha);
  out["build_type"] = or_null(p.build_type);
  out["started_at"] = or_null(p.started_at);
  out["elapsed_s"] = or_null(p.elapsed_s);
  out["device"] = p.device_json ? json::parse(*p.device_json) : json(nullptr);
}

json reference_json(int64_t batch, const std::optional<int64_t>& tokens,
                    const std::optional<std::string>& method) {
  json to = {{"batch", batch}};
  if (tokens) to["tokens"] = *tokens;
  if (method) to["method"] = *method;
  return to;
}

json ratio_json(const std::optional<PairedRatioBody>& ratio) {
  if (!ratio) return nullptr;
  return {{"to", reference_json(ratio->to_batch, ratio->to_tokens, ratio->to_method)},
          {"median", ratio->median},
          {"ci95_low", or_null(ratio->ci95_low)},
          {"ci95_high", or_null(ratio->ci95_high)},
          {"rounds", ratio->rounds}};
}

json power_json(const std::optional<PointPower>& power) {
  if (!power) return nullptr;
  return {{"average_w", or_null(power->average_w)},
          {"peak_w", or_null(power->peak_w)},
          {"joules_per_forward", or_null(power->joules_per_forward)},
          {"joules_per_image", or_null(power->joules_per_image)},
          {"readings", or_null(power->readings)}};
}

json point_json(const ProfilePoint& p) {
  std::vector<double> raw_ms;
  raw_ms.reserve(p.raw_ms.size());
  for (const double sample : p.raw_ms) raw_ms.push_back(six_significant_digits(sample));
  json point = {{"batch", p.batch},
                {"tokens", p.tokens},
                {"visit_index", or_null(p.visit_index)},
                {"median_ms", p.median_ms},
                {"median_ci95_low_ms", or_null(p.median_ci95_low_ms)},
                {"median_ci95_high_ms", or_null(p.median_ci95_high_ms)},
                {"median_ci95_relative_half_width", or_null(p.median_ci95_relative_half_width)},
                {"rounds", or_null(p.rounds)},
                {"ratio", ratio_json(p.ratio)},
                {"mean_ms", p.mean_ms},
                {"stddev_ms", p.stddev_ms},
                {"min_ms", or_null(p.min_ms)},
                {"max_ms", or_null(p.max_ms)},
                {"p5_ms", p.p5_ms},
                {"p25_ms", p.p25_ms},
                {"p75_ms", p.p75_ms},
                {"p95_ms", p.p95_ms},
                {"mad_ms", p.mad_ms},
                {"iqr_ms", or_null(p.iqr_ms)},
                {"samples", p.samples},
                {"stable", p.stable},
                {"reached_precision", p.reached_precision},
                {"precision_of", or_null(p.precision_of)},
                {"load_average", or_null(p.load_average)},
                {"steal_fraction", or_null(p.steal_fraction)},
                {"power", power_json(p.power)},
                {"raw_ms", std::move(raw_ms)},
                {"raw_round", p.raw_round}};
  if (p.method) point["method"] = *p.method;
  if (p.clusters) point["clusters"] = *p.clusters;
  if (p.hdp) point["hdp"] = to_json(*p.hdp);
  return point;
}

json rounds_json(const std::optional<RoundsBody>& rounds) {
  if (!rounds) return nullptr;
  json records = json::array();
  for (const RoundRecordBody& r : rounds->rounds) {
    records.push_back({{"round", r.round},
                       {"points_visited", r.points_visited},
                       {"sentinel_median_ms", or_null(r.sentinel_median_ms)},
                       {"load_average", or_null(r.load_average)},
                       {"steal_fraction", or_null(r.steal_fraction)}});
  }
  return {{"count", rounds->count},
          {"sentinel", reference_json(rounds->sentinel_batch, rounds->sentinel_tokens,
                                      rounds->sentinel_method)},
          {"drift", or_null(rounds->drift)},
          {"drift_exceeds_precision", rounds->drift_exceeds_precision},
          {"max_load_average", rounds->max_load_average},
          {"load_above_threads", rounds->load_above_threads},
          {"rounds", std::move(records)}};
}

json settings_json(const MeasurementSettings& s) {
  return {{"precision", or_null(s.precision)},
          {"confidence", or_null(s.confidence)},
          {"min_samples", or_null(s.min_samples)},
          {"min_rounds", or_null(s.min_rounds)},
          {"slice_s", or_null(s.slice_s)},
          {"time_cap_s", or_null(s.time_cap_s)},
          {"warmup_s", or_null(s.warmup_s)},
          {"order_seed", or_null(s.order_seed)},
          {"protocol", or_null(s.protocol)},
          {"points_at_time_cap", or_null(s.points_at_time_cap)}};
}

json power_info_json(const PowerInfoBody& power) {
  if (!power.available) {
    return {{"available", false}, {"reason", power.unavailable_reason.value_or("no power sensor")}};
  }
  return {{"available", true},
          {"sensor", or_null(power.sensor)},
          {"period_ms", or_null(power.period_ms)},
          {"idle_w", or_null(power.idle_w)}};
}

json variants_json(const std::vector<WeightVariantBody>& variants) {
  json out = json::array();
  for (const WeightVariantBody& v : variants) {
    out.push_back({{"clusters", or_null(v.clusters)},
                   {"weight_kernel", v.weight_kernel},
                   {"clustered_weights_sha256", or_null(v.clustered_weights_sha256)},
                   {"weight_bytes_per_forward", or_null(v.weight_bytes_per_forward)}});
  }
  return out;
}

json eval_run_json(const EvalRun& run, const char* kind) {
  json out;
  put_provenance(out, run.provenance);
  out["kind"] = kind;
  out["schema_version"] = kResultSchemaVersion;
  out["model"] = run.model;
  out["weights"] = or_null(run.weights);
  out["weights_sha256"] = or_null(run.weights_sha256);
  out["dataset"] = run.dataset;
  out["split"] = run.split;
  out["method"] = run.method;
  out["limit"] = or_null(run.limit);
  out["seed"] = or_null(run.seed);
  out["batch"] = run.batch;
  out["images"] = run.images;
  out["images_per_s"] = or_null(run.images_per_s);
  if (run.clustering) {
    out["clusters"] = run.clustering->clusters;
    out["clustered_weights_sha256"] = run.clustering->weights_sha256;
    out["dense_tensor_bytes"] = run.clustering->dense_tensor_bytes;
    out["clustered_tensor_bytes"] = run.clustering->clustered_tensor_bytes;
  }
  return out;
}

// What every measurement document ends with: how it was measured, the
// power, and the points.
void put_measured(json& out, const MeasurementBody& measurement, const PowerInfoBody& power,
                  const std::vector<ProfilePoint>& points) {
  out["method"] = settings_json(measurement.method);
  out["rounds"] = rounds_json(measurement.rounds);
  out["power"] = power_info_json(power);
  out["points_planned"] = or_null(measurement.points_planned);
  out["interrupted"] = measurement.interrupted;
  json list = json::array();
  for (const ProfilePoint& point : points) list.push_back(point_json(point));
  out["points"] = std::move(list);
}

}  // namespace

HdpBody hdp_body_of(const std::vector<HdpCounts>& per_block) {
  HdpBody body;
  body.per_block = per_block;
  for (const HdpCounts& block : per_block) body.total += block;
  return body;
}

json to_json(const HdpBody& hdp) {
  json out = counts_json(hdp.total);
  json blocks = json::array();
  for (const HdpCounts& block : hdp.per_block) blocks.push_back(counts_json(block));
  out["per_block"] = std::move(blocks);
  return out;
}

json to_json(const MeasurementDocument& d) {
  json out;
  put_provenance(out, d.provenance);
  out["schema_version"] = kResultSchemaVersion;
  json model = {{"name", d.model}};
  if (d.shape) {
    model["dim"] = d.shape->dim;
    model["depth"] = d.shape->depth;
    model["heads"] = d.shape->heads;
    model["tokens"] = d.shape->tokens;
  }
  out["model"] = std::move(model);
  out["weights"] = or_null(d.weights);
  out["mode"] = d.mode;
  out["weight_kernel"] = or_null(d.weight_kernel);
  out["clusters"] = or_null(d.clusters);
  out["clustered_weights_sha256"] = or_null(d.clustered_weights_sha256);
  out["paired_clusters"] = or_null(d.paired_clusters);
  out["variants"] = variants_json(d.variants);
  if (d.hdp_shares) {
    json shares = json::array();
    for (const HdpMeasuredShares& s : *d.hdp_shares) shares.push_back(to_json(s));
    out["hdp_shares"] = std::move(shares);
  } else {
    out["hdp_shares"] = nullptr;
  }
  out["methods"] = or_null(d.methods);
  put_measured(out, d.measurement, d.power, d.points);
  return out;
}

json to_json(const ArchitectureDocument& d) {
  json out;
  put_provenance(out, d.provenance);
  out["schema_version"] = kResultSchemaVersion;
  out["architecture"] = design::to_json(d.architecture);
  out["architecture_id"] = d.architecture_id;
  out["parameters"] = d.parameters;
  out["flops_per_input"] = d.flops_per_input;
  put_measured(out, d.measurement, d.power, d.points);
  return out;
}

std::string bits_to_hex(const std::vector<bool>& bits) {
  std::vector<uint8_t> bytes((bits.size() + 7) / 8, 0);
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (bits[i]) bytes[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * bytes.size());
  for (const uint8_t byte : bytes) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xf];
  }
  return hex;
}

json to_json(const EvalBody& body) {
  json out = eval_run_json(body, "eval");
  out["top1"] = body.top1;
  out["top5"] = body.top5;
  out["top1_correct"] = bits_to_hex(body.top1_correct);
  out["images_sha256"] = or_null(body.images_sha256);
  if (body.hdp) out["hdp"] = to_json(*body.hdp);
  if (body.latency) {
    const EvalLatencyBody& l = *body.latency;
    out["latency"] = {
        {"batch", l.batch},
        {"median_ms", l.median_ms},
        {"p5_ms", or_null(l.p5_ms)},
        {"p95_ms", or_null(l.p95_ms)},
        {"mean_ms", or_null(l.mean_ms)},
        {"stddev_ms", or_null(l.stddev_ms)},
        {"median_ci95_relative_half_width", or_null(l.median_ci95_relative_half_width)},
        {"samples", or_null(l.samples)},
        {"stable", or_null(l.stable)},
        {"reached_precision", or_null(l.reached_precision)},
        {"per_image_ms", or_null(l.per_image_ms)}};
  } else {
    out["latency"] = nullptr;
  }
  return out;
}

json to_json(const AccuracyCurveBody& body) {
  json out = eval_run_json(body, "accuracy_curve");
  json points = json::array();
  for (const AccuracyPoint& p : body.points) {
    points.push_back({{"tokens", p.tokens},
                      {"method", or_null(p.method)},
                      {"top1", p.top1},
                      {"top5", p.top5},
                      {"images", p.images}});
  }
  out["points"] = std::move(points);
  return out;
}

}  // namespace tailsweep::protocol
