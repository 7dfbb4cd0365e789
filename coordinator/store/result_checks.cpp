#include "coordinator/store/result_checks.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "analysis/profile_plan.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"
#include "common/wire/protocol.h"
#include "common/wire/strict_json.h"

namespace tailsweep::store {
namespace {

// Errors read like the body parser's: "<what>: <field>: <problem>".
struct Checker {
  std::string what;

  [[noreturn]] void fail(std::string_view field, std::string_view problem) const {
    throw InputError(fmt::format("{}: {}: {}", what, field, problem));
  }

  void same_text(std::string_view field, std::string_view got, std::string_view expected) const {
    if (got != expected) {
      fail(field, fmt::format("'{}' is not the job's '{}'", got, expected));
    }
  }

  void latency(std::string_view field, double value_ms) const {
    if (!(std::isfinite(value_ms) && value_ms > 0 && value_ms <= kMaxLatencyMs)) {
      fail(field, fmt::format("{} ms is not a latency (positive, finite, at most {} ms)", value_ms,
                              kMaxLatencyMs));
    }
  }

  void spread(std::string_view field, double value_ms) const {
    if (!(std::isfinite(value_ms) && value_ms >= 0 && value_ms <= kMaxLatencyMs)) {
      fail(field, fmt::format("{} ms is not a spread (0 or more, finite)", value_ms));
    }
  }

  void simulated(const BodyProvenance& provenance, bool device_simulated) const {
    if (provenance.device_simulated != device_simulated) {
      fail("device.simulated", fmt::format("the result says {}, but the device that sent it is {}",
                                           provenance.device_simulated
                                               ? (*provenance.device_simulated ? "true" : "false")
                                               : "nothing",
                                           device_simulated ? "simulated" : "real"));
    }
  }
};

std::string canonical_method(std::string_view text) { return to_string(parse_method_spec(text)); }

void check_point_statistics(const Checker& check, const std::string& at,
                            const ProfilePoint& point) {
  check.latency(at + ".median_ms", point.median_ms);
  for (const auto& [name, value] :
       {std::pair{"p5_ms", point.p5_ms}, std::pair{"p25_ms", point.p25_ms},
        std::pair{"p75_ms", point.p75_ms}, std::pair{"p95_ms", point.p95_ms},
        std::pair{"mean_ms", point.mean_ms}}) {
    check.latency(at + "." + name, value);
  }
  if (point.median_ci95_low_ms)
    check.latency(at + ".median_ci95_low_ms", *point.median_ci95_low_ms);
  if (point.median_ci95_high_ms)
    check.latency(at + ".median_ci95_high_ms", *point.median_ci95_high_ms);
  check.spread(at + ".stddev_ms", point.stddev_ms);
  check.spread(at + ".mad_ms", point.mad_ms);
  if (!(point.p5_ms <= point.p25_ms && point.p25_ms <= point.p75_ms &&
        point.p75_ms <= point.p95_ms)) {
    check.fail(at, "the percentiles are not in order (p5 <= p25 <= p75 <= p95)");
  }
  // In rounds the median is that of the round medians, so it need not sit
  // between p25 and p75 of the pooled samples; it is always among them.
  if (!point.raw_ms.empty()) {
    const auto [low, high] = std::minmax_element(point.raw_ms.begin(), point.raw_ms.end());
    if (!(*low <= point.median_ms && point.median_ms <= *high)) {
      check.fail(at + ".median_ms", "lies outside the samples in raw_ms");
    }
  }
  if (point.median_ci95_low_ms && point.median_ci95_high_ms &&
      !(*point.median_ci95_low_ms <= point.median_ms &&
        point.median_ms <= *point.median_ci95_high_ms)) {
    check.fail(at + ".median_ci95_low_ms", "the interval does not hold the median");
  }
  if (point.raw_ms.size() != static_cast<std::size_t>(point.samples)) {
    check.fail(at + ".samples",
               fmt::format("{} samples, but raw_ms holds {}", point.samples, point.raw_ms.size()));
  }
  for (std::size_t i = 0; i < point.raw_ms.size(); ++i) {
    check.latency(fmt::format("{}.raw_ms[{}]", at, i), point.raw_ms[i]);
  }
}

template <typename Key>
void check_unique(const Checker& check, std::set<Key>& seen, const Key& key,
                  const std::string& at) {
  if (!seen.insert(key).second) check.fail(at, "the same point appears twice");
}

void check_batch(const Checker& check, const std::string& at, int64_t batch,
                 const std::vector<int64_t>& batches) {
  if (std::find(batches.begin(), batches.end(), batch) == batches.end()) {
    check.fail(at + ".batch", fmt::format("{} is not one of the job's batches ({})", batch,
                                          fmt::join(batches, ", ")));
  }
}

// A measurement that stopped before its last point is not the job's answer:
// refused, so that the job is measured again, never stored as if whole.
void check_whole(const Checker& check, const MeasurementBody& measurement, std::size_t points,
                 std::size_t planned) {
  if (measurement.interrupted) {
    check.fail("interrupted", "the measurement stopped early; the job must be measured again");
  }
  if (points != planned) {
    check.fail("points", fmt::format("{} points for the job's {}", points, planned));
  }
}

void check_profile(const Checker& check, const protocol::ProfileJobSpec& spec,
                   const ProfileBody& body) {
  check.same_text("model.name", body.model, spec.model);
  check.same_text("mode", body.mode, spec.mode);
  const std::vector<int64_t> grid =
      parse_token_grid(spec.tokens, parse_model_spec(spec.model).total_tokens());
  std::set<std::pair<int64_t, int64_t>> seen;
  for (std::size_t i = 0; i < body.points.size(); ++i) {
    const ProfilePoint& point = body.points[i];
    const std::string at = fmt::format("points[{}]", i);
    check_batch(check, at, point.batch, spec.batches);
    if (!std::binary_search(grid.begin(), grid.end(), point.tokens)) {
      check.fail(at + ".tokens",
                 fmt::format("{} is not in the job's token grid {}", point.tokens, spec.tokens));
    }
    check_unique(check, seen, std::pair{point.batch, point.tokens}, at);
    check_point_statistics(check, at, point);
  }
  // A ratio is taken to a point of the same batch that the body holds.
  for (std::size_t i = 0; i < body.points.size(); ++i) {
    const std::optional<PairedRatioBody>& ratio = body.points[i].ratio;
    if (!ratio) continue;
    if (ratio->to_batch != body.points[i].batch || !ratio->to_tokens ||
        !seen.contains(std::pair{ratio->to_batch, *ratio->to_tokens})) {
      check.fail(fmt::format("points[{}].ratio.to", i),
                 "names no point of this batch in the result");
    }
  }
  check_whole(check, body.measurement, body.points.size(), spec.batches.size() * grid.size());
}

// What HDP pruned is there exactly when the method has HDP: a result that
// leaves it out would store an HDP row that says nothing of its work.
void check_hdp_presence(const Checker& check, const std::string& at, std::string_view method,
                        const std::optional<HdpBody>& hdp) {
  const bool has_hdp = parse_method_spec(method).hdp.has_value();
  if (has_hdp && !hdp) check.fail(at, "missing: a method with HDP says what it pruned");
  if (!has_hdp && hdp) check.fail(at, fmt::format("'{}' has no HDP to count", method));
}

// A paired clustering job's variants: the weights as given, then each K
// the job asked for, in its order, the clustered ones on the job's kernel.
void check_variants(const Checker& check, const protocol::ProfileJobSpec& spec,
                    const LatencyBody& body) {
  if (spec.paired_clusters.empty()) {
    if (body.variants.size() > 1) check.fail("variants", "the job paired no clustered weights");
    return;
  }
  if (body.variants.size() != spec.paired_clusters.size() + 1) {
    check.fail("variants", fmt::format("expected the weights as given and K = {}",
                                       fmt::join(spec.paired_clusters, ", ")));
  }
  if (body.variants.front().clusters) {
    check.fail("variants[0].clusters", "the first variant is the weights as given");
  }
  for (std::size_t i = 0; i < spec.paired_clusters.size(); ++i) {
    const WeightVariantBody& variant = body.variants[i + 1];
    const std::string at = fmt::format("variants[{}]", i + 1);
    if (variant.clusters != spec.paired_clusters[i]) {
      check.fail(at + ".clusters", fmt::format("is not the job's {}", spec.paired_clusters[i]));
    }
    check.same_text(at + ".weight_kernel", variant.weight_kernel, spec.weight_kernel);
  }
}

void check_latency(const Checker& check, const protocol::ProfileJobSpec& spec,
                   const LatencyBody& body) {
  check.same_text("model.name", body.model, spec.model);
  check_variants(check, spec, body);
  const int64_t tokens_total = parse_model_spec(spec.model).total_tokens();
  std::vector<std::string> methods;
  for (const std::string& method : spec.methods) methods.push_back(canonical_method(method));
  std::set<std::tuple<int64_t, std::string, int64_t>> seen;  // batch, method, K (0: as given)
  for (std::size_t i = 0; i < body.points.size(); ++i) {
    const ProfilePoint& point = body.points[i];
    const std::string at = fmt::format("points[{}]", i);
    check_batch(check, at, point.batch, spec.batches);
    const std::string method = canonical_method(*point.method);
    if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
      check.fail(at + ".method", fmt::format("'{}' is not one of the job's methods ({})", method,
                                             fmt::join(methods, ", ")));
    }
    if (point.clusters && std::find(spec.paired_clusters.begin(), spec.paired_clusters.end(),
                                    *point.clusters) == spec.paired_clusters.end()) {
      check.fail(at + ".clusters",
                 fmt::format("{} is not one of the job's paired K", *point.clusters));
    }
    if (point.tokens != tokens_total) {
      check.fail(at + ".tokens", fmt::format("{} is not the model's full input of {} tokens",
                                             point.tokens, tokens_total));
    }
    check_unique(check, seen, std::tuple{point.batch, method, point.clusters.value_or(0)}, at);
    check_point_statistics(check, at, point);
    check_hdp_presence(check, at + ".hdp", method, point.hdp);
  }
  check_whole(check, body.measurement, body.points.size(),
              spec.batches.size() * methods.size() * (1 + spec.paired_clusters.size()));
  // Every ratio is to a point on the weights as given.
  for (std::size_t i = 0; i < body.points.size(); ++i) {
    const std::optional<PairedRatioBody>& ratio = body.points[i].ratio;
    if (!ratio) continue;
    if (ratio->to_batch != body.points[i].batch || !ratio->to_method ||
        !seen.contains(
            std::tuple{ratio->to_batch, canonical_method(*ratio->to_method), int64_t{0}})) {
      check.fail(fmt::format("points[{}].ratio.to", i),
                 "names no point of this batch in the result");
    }
  }
}

void check_eval(const Checker& check, const protocol::EvalJobSpec& spec, const EvalBody& body) {
  check.same_text("model", body.model, spec.model);
  check.same_text("method", canonical_method(body.method), canonical_method(spec.method));
  if (body.batch != spec.batch) {
    check.fail("batch", fmt::format("{} is not the job's batch {}", body.batch, spec.batch));
  }
  if (spec.limit > 0 && body.images > spec.limit) {
    check.fail("images",
               fmt::format("{} is more than the job's limit of {}", body.images, spec.limit));
  }
  if (body.top5 < body.top1) check.fail("top5", "below top1");
  if (body.latency) check.latency("latency.median_ms", body.latency->median_ms);
  check_hdp_presence(check, "hdp", body.method, body.hdp);
  // Clustered weights exactly when the job asked for them, at its K.
  const int64_t clusters = body.clustering ? body.clustering->clusters : 0;
  if (clusters != spec.clusters) {
    check.fail("clusters", fmt::format("{} is not the job's {} (0: the weights as given)",
                                       clusters, spec.clusters));
  }
}

void check_accuracy_curve(const Checker& check, const protocol::EvalJobSpec& spec,
                          const AccuracyCurveBody& body) {
  check.same_text("model", body.model, spec.model);
  if (!spec.tokens) check.fail("points", "the job has no token grid");
  if (spec.clusters != 0) check.fail("clusters", "an accuracy curve is of the weights as given");
  const std::vector<int64_t> grid =
      parse_token_grid(*spec.tokens, parse_model_spec(spec.model).total_tokens());
  std::set<int64_t> seen;
  for (std::size_t i = 0; i < body.points.size(); ++i) {
    const AccuracyPoint& point = body.points[i];
    const std::string at = fmt::format("points[{}]", i);
    if (!std::binary_search(grid.begin(), grid.end(), point.tokens)) {
      check.fail(at + ".tokens",
                 fmt::format("{} is not in the job's token grid {}", point.tokens, *spec.tokens));
    }
    check_unique(check, seen, point.tokens, at);
    if (spec.limit > 0 && point.images > spec.limit) {
      check.fail(at + ".images",
                 fmt::format("{} is more than the job's limit of {}", point.images, spec.limit));
    }
    if (point.top5 < point.top1) check.fail(at + ".top5", "below top1");
  }
}

// The job's architecture (by id: the reader checked the id against the
// body's architecture), each of its batches once, measured whole.
void check_architecture(const Checker& check, const protocol::ArchitectureJobSpec& spec,
                        const ArchitectureDocument& body) {
  check.same_text("architecture_id", body.architecture_id,
                  design::architecture_id(spec.architecture));
  std::set<int64_t> seen;
  for (std::size_t i = 0; i < body.points.size(); ++i) {
    const std::string at = fmt::format("points[{}]", i);
    check_batch(check, at, body.points[i].batch, spec.batches);
    check_unique(check, seen, body.points[i].batch, at);
    check_point_statistics(check, at, body.points[i]);
  }
  check_whole(check, body.measurement, body.points.size(), spec.batches.size());
}

}  // namespace

void check_result_against_job(std::string_view job_spec_json, const AgentResultBody& body,
                              bool device_simulated) {
  const nlohmann::json spec = parse_strict_json(job_spec_json, "the job's spec");
  if (const auto* profile = std::get_if<ProfileBody>(&body)) {
    const Checker check{"profile result"};
    check.simulated(profile->provenance, device_simulated);
    check_profile(check, protocol::parse_profile_job_spec(spec), *profile);
  } else if (const auto* latency = std::get_if<LatencyBody>(&body)) {
    const Checker check{"latency result"};
    check.simulated(latency->provenance, device_simulated);
    check_latency(check, protocol::parse_profile_job_spec(spec), *latency);
  } else if (const auto* eval = std::get_if<EvalBody>(&body)) {
    const Checker check{"eval result"};
    check.simulated(eval->provenance, device_simulated);
    check_eval(check, protocol::parse_eval_job_spec(spec), *eval);
  } else if (const auto* curve = std::get_if<AccuracyCurveBody>(&body)) {
    const Checker check{"accuracy-curve result"};
    check.simulated(curve->provenance, device_simulated);
    check_accuracy_curve(check, protocol::parse_eval_job_spec(spec), *curve);
  } else {
    const Checker check{"architecture result"};
    const auto& architecture = std::get<ArchitectureDocument>(body);
    check.simulated(architecture.provenance, device_simulated);
    check_architecture(check, protocol::parse_architecture_job_spec(spec), architecture);
  }
}

}  // namespace tailsweep::store
