#include "coordinator/store/result_bodies.h"

#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/wire/protocol.h"

namespace tailsweep::store {

using nlohmann::json;
using tailsweep::JsonFields;

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
