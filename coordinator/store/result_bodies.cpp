#include "coordinator/store/result_bodies.h"

#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/sha256.h"
#include "common/wire/json_fields.h"
#include "common/wire/protocol.h"

namespace tailsweep::store {
namespace {

using nlohmann::json;
using tailsweep::JsonFields;

BodyProvenance read_provenance(const JsonFields& fields) {
  BodyProvenance provenance;
  provenance.version = fields.optional_text("version");
  provenance.git_sha = fields.optional_text("git_sha");
  if (fields.has("device") && !fields.is_null("device")) {
    if (!fields.at("device").is_object()) fields.fail("device", "expected a JSON object");
    provenance.device_json = fields.at("device").dump();
    const JsonFields device = fields.object("device");
    if (device.has("simulated")) provenance.device_simulated = device.boolean("simulated");
  }
  return provenance;
}

std::optional<PointPower> read_point_power(const JsonFields& point) {
  if (point.is_null("power")) return std::nullopt;
  const JsonFields power = point.object("power");
  return PointPower{power.nullable_number("average_w"), power.nullable_number("peak_w"),
                    power.nullable_number("joules_per_forward"),
                    power.nullable_number("joules_per_image")};
}

std::optional<PairedRatioBody> read_ratio(const JsonFields& point) {
  if (point.is_null("ratio")) return std::nullopt;
  const JsonFields ratio = point.object("ratio");
  PairedRatioBody result;
  result.median = ratio.number("median");
  result.ci95_low = ratio.nullable_number("ci95_low");
  result.ci95_high = ratio.nullable_number("ci95_high");
  result.rounds = ratio.integer("rounds", 1);
  if (!(result.median > 0 && std::isfinite(result.median))) {
    ratio.fail("median", "expected a positive ratio");
  }
  if (result.ci95_low.has_value() != result.ci95_high.has_value() ||
      (result.ci95_low && !(*result.ci95_low <= result.median && result.median <= *result.ci95_high))) {
    ratio.fail("ci95_low", "the interval must hold the median (ci95_low <= median <= ci95_high)");
  }
  const JsonFields to = ratio.object("to");
  result.to_batch = to.integer("batch", 1);
  if (to.has("tokens")) result.to_tokens = to.integer("tokens", 1);
  if (to.has("method")) result.to_method = to.text("method");
  if (result.to_tokens.has_value() == result.to_method.has_value()) {
    to.fail("", "expected either \"tokens\" (a curve) or \"method\"");
  }
  return result;
}

// The fields schema 2 adds to each point.
void read_rounds_fields(const JsonFields& point, ProfilePoint& result) {
  result.rounds = point.integer("rounds", 1);
  result.ratio = read_ratio(point);
  result.load_average = point.nullable_number("load_average");
  result.steal_fraction = point.nullable_number("steal_fraction");
  const json& rounds = point.array("raw_round", true);
  if (rounds.size() != result.raw_ms.size()) {
    point.fail("raw_round", fmt::format("has {} entries for {} samples in raw_ms", rounds.size(),
                                        result.raw_ms.size()));
  }
  result.raw_round.reserve(rounds.size());
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    if (!rounds[i].is_number_integer() || rounds[i].get<int64_t>() < 0 ||
        (i > 0 && rounds[i].get<int64_t>() < result.raw_round.back())) {
      point.fail(fmt::format("raw_round[{}]", i),
                 "expected a round number, 0 or more and never below the one before");
    }
    result.raw_round.push_back(rounds[i].get<int64_t>());
  }
}

// The "hdp" object's totals; its shares are checked against its counts, so
// a body cannot say one thing in the counts and another in the shares.
std::optional<HdpBody> read_hdp(const JsonFields& fields) {
  if (!fields.has("hdp")) return std::nullopt;
  const JsonFields hdp = fields.object("hdp");
  hdp.reject_unknown({"heads", "heads_pruned", "heads_pruned_share", "blocks", "blocks_pruned",
                      "blocks_pruned_share", "attention_macs", "attention_macs_skipped",
                      "attention_macs_skipped_share", "frac_macs_dropped", "int_macs",
                      "per_block"});
  HdpBody result;
  const auto part_of = [&](const char* part, const char* whole, const char* share,
                           int64_t& part_value, int64_t& whole_value) {
    whole_value = hdp.integer(whole, 0);
    part_value = hdp.integer(part, 0);
    if (part_value > whole_value) hdp.fail(part, fmt::format("more than {}", whole));
    const double expected =
        whole_value > 0 ? static_cast<double>(part_value) / static_cast<double>(whole_value) : 0.0;
    if (std::abs(hdp.fraction(share) - expected) > 1e-9) {
      hdp.fail(share, fmt::format("is not {} / {}", part, whole));
    }
  };
  part_of("heads_pruned", "heads", "heads_pruned_share", result.heads_pruned, result.heads);
  part_of("blocks_pruned", "blocks", "blocks_pruned_share", result.blocks_pruned, result.blocks);
  part_of("attention_macs_skipped", "attention_macs", "attention_macs_skipped_share",
          result.attention_macs_skipped, result.attention_macs);
  result.frac_macs_dropped = hdp.integer("frac_macs_dropped", 0);
  hdp.integer("int_macs", 0);
  hdp.array("per_block", false);
  return result;
}

ProfilePoint read_profile_point(const JsonFields& point, int64_t schema_version) {
  ProfilePoint result;
  result.batch = point.integer("batch", 1);
  result.tokens = point.integer("tokens", 1);
  result.median_ms = point.number("median_ms");
  result.median_ci95_low_ms = point.optional_number("median_ci95_low_ms");
  result.median_ci95_high_ms = point.optional_number("median_ci95_high_ms");
  result.p5_ms = point.number("p5_ms");
  result.p25_ms = point.number("p25_ms");
  result.p75_ms = point.number("p75_ms");
  result.p95_ms = point.number("p95_ms");
  result.mean_ms = point.number("mean_ms");
  result.stddev_ms = point.number("stddev_ms");
  result.mad_ms = point.number("mad_ms");
  result.samples = point.integer("samples", 1);
  result.stable = point.boolean("stable");
  result.reached_precision = point.boolean("reached_precision");
  const json& raw = point.array("raw_ms", true);
  result.raw_ms.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (!raw[i].is_number()) {
      point.fail(fmt::format("raw_ms[{}]", i), "expected a number (every sample is kept)");
    }
    result.raw_ms.push_back(raw[i].get<double>());
  }
  result.power = read_point_power(point);
  result.method = point.optional_text("method");
  if (schema_version >= 2) read_rounds_fields(point, result);
  result.hdp = read_hdp(point);
  return result;
}

std::optional<RoundsBody> read_rounds(const JsonFields& fields) {
  if (fields.is_null("rounds")) return std::nullopt;
  const JsonFields rounds = fields.object("rounds");
  RoundsBody result;
  result.count = rounds.integer("count", 0);
  const JsonFields sentinel = rounds.object("sentinel");
  result.sentinel_batch = sentinel.integer("batch", 1);
  if (sentinel.has("tokens")) result.sentinel_tokens = sentinel.integer("tokens", 1);
  if (sentinel.has("method")) result.sentinel_method = sentinel.text("method");
  result.drift = rounds.nullable_number("drift");
  if (result.drift && !(*result.drift >= 1 && std::isfinite(*result.drift))) {
    rounds.fail("drift", "expected the largest round median over the smallest (>= 1)");
  }
  result.drift_exceeds_precision = rounds.boolean("drift_exceeds_precision");
  result.max_load_average = rounds.number("max_load_average");
  result.load_above_threads = rounds.boolean("load_above_threads");
  const json& records = rounds.array("rounds", false);
  if (static_cast<int64_t>(records.size()) != result.count) {
    rounds.fail("rounds", fmt::format("has {} records for a count of {}", records.size(),
                                      result.count));
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    const JsonFields record = rounds.element("rounds", i, records[i]);
    result.rounds.push_back({record.integer("round", 0), record.integer("points_visited", 0),
                             record.nullable_number("sentinel_median_ms"),
                             record.nullable_number("load_average"),
                             record.nullable_number("steal_fraction")});
  }
  return result;
}

// "schema_version" (absent: 1), and how the body says it was measured.
MeasurementBody read_measurement(const JsonFields& fields) {
  MeasurementBody result;
  if (fields.has("schema_version")) {
    result.schema_version = fields.integer("schema_version", 1);
    if (result.schema_version > protocol::kProfileSchemaVersion) {
      fields.fail("schema_version",
                  fmt::format("{} is newer than this coordinator reads (1 to {}): update it",
                              result.schema_version, protocol::kProfileSchemaVersion));
    }
  }
  if (fields.has("method") && fields.at("method").is_object()) {
    const JsonFields method = fields.object("method");
    result.protocol = method.optional_text("protocol");
    result.precision = method.optional_number("precision");
  }
  if (result.schema_version >= 2) result.rounds = read_rounds(fields);
  if (fields.has("interrupted")) result.interrupted = fields.boolean("interrupted");
  return result;
}

PowerInfoBody read_power_info(const JsonFields& fields) {
  const JsonFields power = fields.object("power");
  PowerInfoBody result;
  result.available = power.boolean("available");
  if (result.available) {
    result.sensor = power.text("sensor");
    result.idle_w = power.nullable_number("idle_w");
  } else {
    result.unavailable_reason = power.text("reason");
  }
  return result;
}

}  // namespace

std::string PowerInfoBody::null_reason_for(const std::optional<PointPower>& point) const {
  if (point) return "the sensor gave no average for this point";
  // Keep the reason the agent gave; a sensor that was there but produced
  // nothing for this point says so instead.
  return available ? std::string("the sensor gave no reading in this point's window")
                   : unavailable_reason.value_or("no power sensor");
}

ProfileBody parse_profile_body(const json& body) {
  const JsonFields fields(body, "profile result");
  ProfileBody result;
  result.provenance = read_provenance(fields);
  result.model = fields.object("model").text("name");
  result.mode = fields.text("mode");
  if (result.mode != "model" && result.mode != "block") {
    fields.fail("mode", fmt::format("'{}' is neither 'model' nor 'block'", result.mode));
  }
  result.power = read_power_info(fields);
  result.measurement = read_measurement(fields);
  const json& points = fields.array("points", true);
  for (std::size_t i = 0; i < points.size(); ++i) {
    result.points.push_back(read_profile_point(fields.element("points", i, points[i]),
                                               result.measurement.schema_version));
    if (result.points.back().method || result.points.back().hdp) {
      fields.fail(fmt::format("points[{}].method", i),
                  "a curve point has no method (method latencies come from latency jobs)");
    }
  }
  return result;
}

LatencyBody parse_latency_body(const json& body) {
  const JsonFields fields(body, "latency result");
  LatencyBody result;
  result.provenance = read_provenance(fields);
  result.model = fields.object("model").text("name");
  if (fields.text("mode") != "model") fields.fail("mode", "a latency result times whole models");
  result.power = read_power_info(fields);
  result.measurement = read_measurement(fields);
  const json& points = fields.array("points", true);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const JsonFields point = fields.element("points", i, points[i]);
    result.points.push_back(read_profile_point(point, result.measurement.schema_version));
    if (!result.points.back().method) point.fail("method", "missing");
    if (point.has("clusters")) {
      result.points.back().clusters = point.integer("clusters", 2);
      if (*result.points.back().clusters > 256) point.fail("clusters", "more than 256");
    }
  }
  if (fields.has("variants") && !fields.is_null("variants")) {
    const json& variants = fields.array("variants", true);
    for (std::size_t i = 0; i < variants.size(); ++i) {
      const JsonFields variant = fields.element("variants", i, variants[i]);
      variant.reject_unknown(
          {"clusters", "weight_kernel", "clustered_weights_sha256", "weight_bytes_per_forward"});
      WeightVariantBody v;
      if (!variant.is_null("clusters")) {
        v.clusters = variant.integer("clusters", 2);
        if (*v.clusters > 256) variant.fail("clusters", "more than 256");
      }
      v.weight_kernel = variant.text("weight_kernel");
      if (v.weight_kernel != "dense" && v.weight_kernel != "lookup") {
        variant.fail("weight_kernel", "expected dense or lookup");
      }
      v.clustered_weights_sha256 = variant.nullable_text("clustered_weights_sha256");
      if (v.clustered_weights_sha256 && !is_sha256_hex(*v.clustered_weights_sha256)) {
        variant.fail("clustered_weights_sha256", "not a SHA-256 in hex");
      }
      if (!variant.is_null("weight_bytes_per_forward")) {
        v.weight_bytes_per_forward = variant.integer("weight_bytes_per_forward", 1);
      }
      result.variants.push_back(std::move(v));
    }
  }
  return result;
}

EvalBody parse_eval_body(const json& body) {
  const JsonFields fields(body, "eval result");
  EvalBody result;
  result.provenance = read_provenance(fields);
  result.model = fields.text("model");
  result.weights_sha256 = fields.nullable_text("weights_sha256");
  result.dataset = fields.text("dataset");
  result.split = fields.text("split");
  result.method = fields.text("method");
  result.batch = fields.integer("batch", 1);
  result.images = fields.integer("images", 1);
  result.top1 = fields.fraction("top1");
  result.top5 = fields.fraction("top5");
  if (!fields.is_null("latency")) {
    result.latency_median_ms = fields.object("latency").number("median_ms");
  }
  if (fields.has("clusters")) {
    EvalBody::Clustering clustering;
    clustering.clusters = fields.integer("clusters", 2);
    if (clustering.clusters > 256) fields.fail("clusters", "more than 256");
    clustering.weights_sha256 = fields.text("clustered_weights_sha256");
    if (!is_sha256_hex(clustering.weights_sha256)) {
      fields.fail("clustered_weights_sha256", "not a SHA-256 in hex");
    }
    clustering.dense_tensor_bytes = fields.integer("dense_tensor_bytes", 1);
    clustering.clustered_tensor_bytes = fields.integer("clustered_tensor_bytes", 1);
    result.clustering = clustering;
  }
  result.hdp = read_hdp(fields);
  return result;
}

AccuracyCurveBody parse_accuracy_curve_body(const json& body) {
  const JsonFields fields(body, "accuracy-curve result");
  AccuracyCurveBody result;
  result.provenance = read_provenance(fields);
  result.model = fields.text("model");
  result.weights_sha256 = fields.nullable_text("weights_sha256");
  result.dataset = fields.text("dataset");
  result.split = fields.text("split");
  result.method = fields.text("method");
  const json& points = fields.array("points", true);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const JsonFields point = fields.element("points", i, points[i]);
    result.points.push_back(AccuracyPoint{point.integer("tokens", 1), point.fraction("top1"),
                                          point.fraction("top5"), point.integer("images", 1)});
  }
  return result;
}

ScheduleBody parse_schedule_body(const json& body) {
  const JsonFields fields(body, "schedule result");
  ScheduleBody result;
  result.device_id = fields.integer("device_id", 1);
  result.model = fields.text("model");
  result.batch = fields.integer("batch", 1);
  result.method = fields.text("method");
  if (result.method != "pomt") fields.fail("method", "only 'pomt' schedules are stored");
  result.alpha = fields.fraction("alpha");
  result.tokens_total = fields.integer("tokens_total", 2);
  result.n_star = fields.integer("n_star", 1);
  if (result.n_star > result.tokens_total) {
    fields.fail("n_star",
                fmt::format("{} exceeds tokens_total {}", result.n_star, result.tokens_total));
  }
  result.r = fields.integer("r", 0);
  result.layer = fields.integer("layer", 0);
  result.latency_at_n_star_ms = fields.nullable_number("latency_at_n_star_ms");
  result.baseline_latency_ms = fields.nullable_number("baseline_latency_ms");
  const json& sources = fields.array("source_job_ids", false);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i].is_number_integer()) {
      fields.fail(fmt::format("source_job_ids[{}]", i), "expected a job id");
    }
    result.source_job_ids.push_back(sources[i].get<int64_t>());
  }
  if (fields.has("aligned") && !fields.is_null("aligned")) {
    const JsonFields aligned = fields.object("aligned");
    ScheduleBody::Aligned variant;
    variant.r = aligned.integer("r", 0);
    variant.tokens_after_pruning = aligned.integer("tokens_after_pruning", 1);
    if (!aligned.is_null("step_below")) variant.step_below = aligned.integer("step_below", 1);
    if (!aligned.is_null("step_above")) variant.step_above = aligned.integer("step_above", 1);
    if (variant.tokens_after_pruning + variant.r != result.tokens_total) {
      aligned.fail("r", fmt::format("{} tokens after pruning {} of {}", variant.tokens_after_pruning,
                                    variant.r, result.tokens_total));
    }
    result.aligned = variant;
  }
  if (fields.has("validity")) {
    const JsonFields validity = fields.object("validity");
    validity.reject_unknown({"points", "below_precision", "unstable", "n_star_reached_precision"});
    CurveValidity v;
    v.points = validity.integer("points", 0);
    v.below_precision = validity.integer("below_precision", 0);
    v.unstable = validity.integer("unstable", 0);
    if (v.below_precision > v.points || v.unstable > v.points) {
      validity.fail("points", "fewer than the points it counts");
    }
    if (!validity.is_null("n_star_reached_precision")) {
      v.n_star_reached_precision = validity.boolean("n_star_reached_precision");
    }
    result.validity = v;
  }
  return result;
}

MatchBody parse_match_body(const json& body) {
  const JsonFields fields(body, "match result");
  fields.reject_unknown({"device_id", "model", "batch", "target_method", "target_latency_ms",
                         "tolerance", "latency_job_id", "matches", "target_reached_precision"});
  MatchBody result;
  result.device_id = fields.integer("device_id", 1);
  result.model = fields.text("model");
  result.batch = fields.integer("batch", 1);
  result.target_method = fields.text("target_method");
  result.target_latency_ms = fields.number("target_latency_ms");
  result.tolerance = fields.number("tolerance");
  result.latency_job_id = fields.integer("latency_job_id", 1);
  if (fields.has("target_reached_precision")) {
    result.target_reached_precision = fields.boolean("target_reached_precision");
  }
  const json& matches = fields.array("matches", false);
  for (std::size_t i = 0; i < matches.size(); ++i) {
    const JsonFields match = fields.element("matches", i, matches[i]);
    match.reject_unknown({"family", "method", "latency_ms", "relative_gap", "within_tolerance",
                          "candidates", "reached_precision"});
    MatchedMethod matched;
    matched.family = match.text("family");
    matched.method = match.text("method");
    matched.latency_ms = match.number("latency_ms");
    matched.relative_gap = match.number("relative_gap");
    matched.within_tolerance = match.boolean("within_tolerance");
    matched.candidates = match.integer("candidates", 1);
    if (match.has("reached_precision"))
      matched.reached_precision = match.boolean("reached_precision");
    result.matches.push_back(std::move(matched));
  }
  return result;
}

}  // namespace tailsweep::store
