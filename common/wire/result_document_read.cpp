// The coordinator's side of the measurement documents (profile and latency
// jobs): strict reading into the structs of result_document.h.
#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/util/sha256.h"
#include "common/wire/document_fields.h"
#include "common/wire/result_document.h"

namespace tailsweep::protocol {
namespace {

using nlohmann::json;
using namespace document;

std::optional<double> nullable_number_since_3(const JsonFields& f, Version v, const char* key) {
  if (!v.strict() && !f.has(key)) return std::nullopt;
  return f.nullable_number(key);
}
std::optional<PointPower> read_point_power(const JsonFields& point, Version version) {
  if (point.is_null("power")) return std::nullopt;
  const JsonFields power = point.object("power");
  reject_unknown_if(power, version,
                    {"average_w", "peak_w", "joules_per_forward", "joules_per_image", "readings"});
  PointPower result{power.nullable_number("average_w"), power.nullable_number("peak_w"),
                    power.nullable_number("joules_per_forward"),
                    power.nullable_number("joules_per_image"), std::nullopt};
  result.readings =
      since_3(power, version, "readings", [&] { return power.integer("readings", 0); });
  return result;
}

std::optional<PairedRatioBody> read_ratio(const JsonFields& point, Version version) {
  if (point.is_null("ratio")) return std::nullopt;
  const JsonFields ratio = point.object("ratio");
  reject_unknown_if(ratio, version, {"to", "median", "ci95_low", "ci95_high", "rounds"});
  PairedRatioBody result;
  result.median = ratio.number("median");
  result.ci95_low = ratio.nullable_number("ci95_low");
  result.ci95_high = ratio.nullable_number("ci95_high");
  result.rounds = ratio.integer("rounds", 1);
  if (!(result.median > 0 && std::isfinite(result.median))) {
    ratio.fail("median", "expected a positive ratio");
  }
  if (result.ci95_low.has_value() != result.ci95_high.has_value() ||
      (result.ci95_low &&
       !(*result.ci95_low <= result.median && result.median <= *result.ci95_high))) {
    ratio.fail("ci95_low", "the interval must hold the median (ci95_low <= median <= ci95_high)");
  }
  const JsonFields to = ratio.object("to");
  reject_unknown_if(to, version, {"batch", "tokens", "method"});
  result.to_batch = to.integer("batch", 1);
  if (to.has("tokens")) result.to_tokens = to.integer("tokens", 1);
  if (to.has("method")) result.to_method = to.text("method");
  if (result.to_tokens.has_value() == result.to_method.has_value()) {
    to.fail("", "expected either \"tokens\" (a curve) or \"method\"");
  }
  return result;
}

// The fields schema 2 adds to each point.
void read_rounds_fields(const JsonFields& point, Version version, ProfilePoint& result) {
  result.rounds = point.integer("rounds", 1);
  result.ratio = read_ratio(point, version);
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

ProfilePoint read_profile_point(const JsonFields& point, Version version) {
  reject_unknown_if(point, version,
                    {"batch",
                     "tokens",
                     "visit_index",
                     "median_ms",
                     "median_ci95_low_ms",
                     "median_ci95_high_ms",
                     "median_ci95_relative_half_width",
                     "rounds",
                     "ratio",
                     "mean_ms",
                     "stddev_ms",
                     "min_ms",
                     "max_ms",
                     "p5_ms",
                     "p25_ms",
                     "p75_ms",
                     "p95_ms",
                     "mad_ms",
                     "iqr_ms",
                     "samples",
                     "stable",
                     "reached_precision",
                     "precision_of",
                     "load_average",
                     "steal_fraction",
                     "power",
                     "raw_ms",
                     "raw_round",
                     "method",
                     "clusters",
                     "hdp"});
  ProfilePoint result;
  result.batch = point.integer("batch", 1);
  result.tokens = point.integer("tokens", 1);
  result.visit_index =
      since_3(point, version, "visit_index", [&] { return point.integer("visit_index", 0); });
  result.median_ms = point.number("median_ms");
  // Absent from older agents' points without an interval; null in version 3.
  result.median_ci95_low_ms = nullable_number_since_3(point, version, "median_ci95_low_ms");
  result.median_ci95_high_ms = nullable_number_since_3(point, version, "median_ci95_high_ms");
  result.median_ci95_relative_half_width =
      nullable_number_since_3(point, version, "median_ci95_relative_half_width");
  result.p5_ms = point.number("p5_ms");
  result.p25_ms = point.number("p25_ms");
  result.p75_ms = point.number("p75_ms");
  result.p95_ms = point.number("p95_ms");
  result.mean_ms = point.number("mean_ms");
  result.stddev_ms = point.number("stddev_ms");
  result.mad_ms = point.number("mad_ms");
  const auto number = [&](const char* key) {
    return since_3(point, version, key, [&] { return point.number(key); });
  };
  result.min_ms = number("min_ms");
  result.max_ms = number("max_ms");
  result.iqr_ms = number("iqr_ms");
  result.samples = point.integer("samples", 1);
  result.stable = point.boolean("stable");
  result.reached_precision = point.boolean("reached_precision");
  result.precision_of = since_3(point, version, "precision_of", [&] {
    std::string of = point.text("precision_of");
    if (of != "ratio" && of != "median") point.fail("precision_of", "expected ratio or median");
    return of;
  });
  const json& raw = point.array("raw_ms", true);
  result.raw_ms.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (!raw[i].is_number()) {
      point.fail(fmt::format("raw_ms[{}]", i), "expected a number (every sample is kept)");
    }
    result.raw_ms.push_back(raw[i].get<double>());
  }
  result.power = read_point_power(point, version);
  result.method = point.optional_text("method");
  if (version.number >= 2) read_rounds_fields(point, version, result);
  if (point.has("clusters")) {
    result.clusters = point.integer("clusters", 2);
    if (*result.clusters > 256) point.fail("clusters", "more than 256");
  }
  result.hdp = read_hdp(point, version);
  return result;
}

std::optional<RoundsBody> read_rounds(const JsonFields& fields, Version version) {
  if (fields.is_null("rounds")) return std::nullopt;
  const JsonFields rounds = fields.object("rounds");
  reject_unknown_if(rounds, version,
                    {"count", "sentinel", "drift", "drift_exceeds_precision", "max_load_average",
                     "load_above_threads", "rounds"});
  RoundsBody result;
  result.count = rounds.integer("count", 0);
  const JsonFields sentinel = rounds.object("sentinel");
  reject_unknown_if(sentinel, version, {"batch", "tokens", "method"});
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
    rounds.fail("rounds",
                fmt::format("has {} records for a count of {}", records.size(), result.count));
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    const JsonFields record = rounds.element("rounds", i, records[i]);
    reject_unknown_if(
        record, version,
        {"round", "points_visited", "sentinel_median_ms", "load_average", "steal_fraction"});
    result.rounds.push_back({record.integer("round", 0), record.integer("points_visited", 0),
                             record.nullable_number("sentinel_median_ms"),
                             record.nullable_number("load_average"),
                             record.nullable_number("steal_fraction")});
  }
  return result;
}

MeasurementSettings read_settings(const JsonFields& fields, Version version) {
  MeasurementSettings s;
  if (!version.strict() && !(fields.has("method") && fields.at("method").is_object())) return s;
  const JsonFields m = fields.object("method");
  reject_unknown_if(m, version,
                    {"precision", "confidence", "min_samples", "min_rounds", "slice_s",
                     "time_cap_s", "warmup_s", "order_seed", "protocol", "points_at_time_cap"});
  const auto number = [&](const char* key) {
    return since_3(m, version, key, [&] { return m.number(key); });
  };
  const auto integer = [&](const char* key) {
    return since_3(m, version, key, [&] { return m.integer(key, 0); });
  };
  s.precision = number("precision");
  s.confidence = number("confidence");
  s.min_samples = integer("min_samples");
  s.min_rounds = integer("min_rounds");
  s.slice_s = number("slice_s");
  s.time_cap_s = number("time_cap_s");
  s.warmup_s = number("warmup_s");
  s.order_seed = integer("order_seed");
  s.protocol = since_3(m, version, "protocol", [&] { return m.text("protocol"); });
  s.points_at_time_cap = integer("points_at_time_cap");
  return s;
}

MeasurementBody read_measurement(const JsonFields& fields, Version version) {
  MeasurementBody result;
  result.schema_version = version.number;
  result.method = read_settings(fields, version);
  if (version.number >= 2) result.rounds = read_rounds(fields, version);
  if (version.strict() || fields.has("interrupted")) {
    result.interrupted = fields.boolean("interrupted");
  }
  result.points_planned = since_3(fields, version, "points_planned",
                                  [&] { return fields.integer("points_planned", 1); });
  return result;
}

PowerInfoBody read_power_info(const JsonFields& fields, Version version) {
  const JsonFields power = fields.object("power");
  PowerInfoBody result;
  result.available = power.boolean("available");
  if (result.available) {
    reject_unknown_if(power, version, {"available", "sensor", "period_ms", "idle_w"});
    result.sensor = power.text("sensor");
    result.period_ms =
        since_3(power, version, "period_ms", [&] { return power.integer("period_ms", 1); });
    result.idle_w = power.nullable_number("idle_w");
  } else {
    reject_unknown_if(power, version, {"available", "reason"});
    result.unavailable_reason = power.text("reason");
  }
  return result;
}

std::optional<std::vector<int64_t>> read_paired_clusters(const JsonFields& fields) {
  if (fields.is_null("paired_clusters")) return std::nullopt;
  const json& list = fields.array("paired_clusters", true);
  std::vector<int64_t> clusters;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_number_integer() || list[i].get<int64_t>() < 2 || list[i].get<int64_t>() > 256)
      fields.fail(fmt::format("paired_clusters[{}]", i), "expected K in [2, 256]");
    clusters.push_back(list[i].get<int64_t>());
  }
  return clusters;
}

std::vector<WeightVariantBody> read_variants(const JsonFields& fields, Version version) {
  std::vector<WeightVariantBody> out;
  if (!version.strict() && (!fields.has("variants") || fields.is_null("variants"))) return out;
  const json& variants = fields.array("variants", true);
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const JsonFields variant = fields.element("variants", i, variants[i]);
    variant.reject_unknown(
        {"clusters", "weight_kernel", "clustered_weights_sha256", "weight_bytes_per_forward"});
    WeightVariantBody v;
    v.clusters = nullable_integer(variant, "clusters", 2);
    if (v.clusters && *v.clusters > 256) variant.fail("clusters", "more than 256");
    v.weight_kernel = variant.text("weight_kernel");
    if (v.weight_kernel != "dense" && v.weight_kernel != "lookup") {
      variant.fail("weight_kernel", "expected dense or lookup");
    }
    v.clustered_weights_sha256 = variant.nullable_text("clustered_weights_sha256");
    if (v.clustered_weights_sha256 && !is_sha256_hex(*v.clustered_weights_sha256)) {
      variant.fail("clustered_weights_sha256", "not a SHA-256 in hex");
    }
    v.weight_bytes_per_forward = nullable_integer(variant, "weight_bytes_per_forward", 1);
    out.push_back(std::move(v));
  }
  return out;
}

// The points of a document; at least one.
std::vector<ProfilePoint> read_points(const JsonFields& fields, Version version) {
  std::vector<ProfilePoint> out;
  const json& points = fields.array("points", true);
  for (std::size_t i = 0; i < points.size(); ++i) {
    out.push_back(read_profile_point(fields.element("points", i, points[i]), version));
  }
  return out;
}

// Everything but the points' kind-specific checks, shared by both readers.
MeasurementDocument read_measurement_document(const JsonFields& fields) {
  const Version version = read_version(fields);
  reject_unknown_if(fields, version,
                    {"tool",
                     "schema_version",
                     "version",
                     "git_sha",
                     "build_type",
                     "started_at",
                     "elapsed_s",
                     "model",
                     "weights",
                     "mode",
                     "weight_kernel",
                     "clusters",
                     "clustered_weights_sha256",
                     "paired_clusters",
                     "variants",
                     "hdp_shares",
                     "methods",
                     "method",
                     "rounds",
                     "device",
                     "power",
                     "points_planned",
                     "interrupted",
                     "points"});
  MeasurementDocument d;
  d.provenance = read_provenance(fields, version);
  const JsonFields model = fields.object("model");
  reject_unknown_if(model, version, {"name", "dim", "depth", "heads", "tokens"});
  d.model = model.text("name");
  // Agents before version 3 wrote the shape too, but not every writer did.
  if (version.strict() ||
      (model.has("dim") && model.has("depth") && model.has("heads") && model.has("tokens"))) {
    d.shape = ModelShape{model.integer("dim", 1), model.integer("depth", 1),
                         model.integer("heads", 1), model.integer("tokens", 1)};
  }
  d.weights = since_3(fields, version, "weights", [&] { return fields.text("weights"); });
  d.mode = fields.text("mode");
  if (d.mode != "model" && d.mode != "block") {
    fields.fail("mode", fmt::format("'{}' is neither 'model' nor 'block'", d.mode));
  }
  d.weight_kernel =
      since_3(fields, version, "weight_kernel", [&] { return fields.text("weight_kernel"); });
  if (version.strict()) {
    d.clusters = nullable_integer(fields, "clusters", 2);
    d.clustered_weights_sha256 = fields.nullable_text("clustered_weights_sha256");
    d.paired_clusters = read_paired_clusters(fields);
    if (!fields.is_null("hdp_shares")) {
      d.hdp_shares.emplace();
      const json& list = fields.array("hdp_shares", true);
      for (std::size_t i = 0; i < list.size(); ++i)
        d.hdp_shares->push_back(read_hdp_shares(fields.element("hdp_shares", i, list[i])));
    }
    if (!fields.is_null("methods")) d.methods = fields.string_list("methods");
  }
  d.variants = read_variants(fields, version);
  d.measurement = read_measurement(fields, version);
  d.power = read_power_info(fields, version);
  d.points = read_points(fields, version);
  return d;
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
  ProfileBody result{read_measurement_document(fields)};
  for (std::size_t i = 0; i < result.points.size(); ++i) {
    if (result.points[i].method || result.points[i].hdp || result.points[i].clusters) {
      fields.fail(fmt::format("points[{}].method", i),
                  "a curve point has no method (method latencies come from latency jobs)");
    }
  }
  return result;
}

LatencyBody parse_latency_body(const json& body) {
  const JsonFields fields(body, "latency result");
  LatencyBody result{read_measurement_document(fields)};
  if (result.mode != "model") fields.fail("mode", "a latency result times whole models");
  for (std::size_t i = 0; i < result.points.size(); ++i) {
    if (!result.points[i].method) fields.fail(fmt::format("points[{}].method", i), "missing");
  }
  return result;
}

ArchitectureDocument parse_architecture_body(const json& body) {
  const JsonFields fields(body, "architecture result");
  const Version version = read_version(fields);
  // A kind newer than schema 3: always strict.
  if (!version.strict()) {
    fields.fail("schema_version", "an architecture result is version 3 or later");
  }
  fields.reject_unknown({"tool", "schema_version", "version", "git_sha", "build_type", "started_at",
                         "elapsed_s", "architecture", "architecture_id", "parameters",
                         "flops_per_input", "method", "rounds", "device", "power", "points_planned",
                         "interrupted", "points"});
  ArchitectureDocument d;
  d.provenance = read_provenance(fields, version);
  try {
    d.architecture = design::parse_architecture(fields.at("architecture"));
  } catch (const InputError& error) {
    // Its message names the path from "architecture: " on.
    throw InputError(fmt::format("{}: {}", fields.what(), error.what()));
  }
  d.architecture_id = fields.text("architecture_id");
  if (d.architecture_id != design::architecture_id(d.architecture)) {
    fields.fail("architecture_id",
                fmt::format("'{}' is not the id of the architecture given ({})", d.architecture_id,
                            design::architecture_id(d.architecture)));
  }
  d.parameters = fields.number("parameters");
  d.flops_per_input = fields.number("flops_per_input");
  // Counted from the architecture: a document that disagrees was written
  // by a different count, and its rows would not compare with others.
  const double parameters = d.architecture.parameter_count();
  const double flops = d.architecture.forward_flops(1);
  if (std::abs(d.parameters - parameters) > 0.5) {
    fields.fail("parameters",
                fmt::format("{} is not the architecture's {}", d.parameters, parameters));
  }
  if (std::abs(d.flops_per_input - flops) > 1e-9 * flops) {
    fields.fail("flops_per_input",
                fmt::format("{} is not the architecture's {}", d.flops_per_input, flops));
  }
  d.measurement = read_measurement(fields, version);
  d.power = read_power_info(fields, version);
  d.points = read_points(fields, version);
  for (std::size_t i = 0; i < d.points.size(); ++i) {
    const ProfilePoint& point = d.points[i];
    if (point.method || point.hdp || point.clusters) {
      fields.fail(fmt::format("points[{}].method", i), "an architecture's points carry no method");
    }
    if (point.tokens != d.architecture.sequence_length) {
      fields.fail(fmt::format("points[{}].tokens", i),
                  fmt::format("{} is not the architecture's sequence length {}", point.tokens,
                              d.architecture.sequence_length));
    }
  }
  return d;
}

}  // namespace tailsweep::protocol
