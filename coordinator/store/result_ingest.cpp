#include "coordinator/store/result_ingest.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "analysis/latency_steps.h"
#include "common/util/errors.h"
#include "common/util/sha256.h"
#include "coordinator/store/curve_reads.h"

namespace tailsweep::store {
namespace {

void insert_power(Database& db, int64_t curve_point_id, const ProfileBody& body,
                  const ProfilePoint& point) {
  auto statement = db.cached(
      "INSERT INTO power (curve_point_id, average_w, peak_w, joules_per_inference, "
      "joules_per_image, idle_w, sensor, null_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  statement->bind(1, curve_point_id);
  if (point.power) {
    statement->bind(2, point.power->average_w)
        .bind(3, point.power->peak_w)
        .bind(4, point.power->joules_per_forward)
        .bind(5, point.power->joules_per_image);
  }
  const bool has_average = point.power && point.power->average_w;
  statement->bind(6, body.power.idle_w)
      .bind(7, body.power.sensor)
      .bind(8, has_average ? std::nullopt
                           : std::optional<std::string>(body.power.null_reason_for(point.power)));
  statement->execute();
}

// curve_points and method_latency share the statistics' columns, as
// parameters 8 (median_ms) to 20 (reached_precision) of their INSERTs.
void bind_statistics(Statement& statement, const ProfilePoint& point) {
  statement.bind(8, point.median_ms)
      .bind(9, point.median_ci95_low_ms)
      .bind(10, point.median_ci95_high_ms)
      .bind(11, point.p5_ms)
      .bind(12, point.p25_ms)
      .bind(13, point.p75_ms)
      .bind(14, point.p95_ms)
      .bind(15, point.mean_ms)
      .bind(16, point.stddev_ms)
      .bind(17, point.mad_ms)
      .bind(18, point.samples)
      .bind(19, point.stable)
      .bind(20, point.reached_precision);
}

// The schema-2 columns of a point row just inserted (003_rounds.sql); a
// schema-1 point leaves them NULL.
void update_rounds_columns(Database& db, std::string_view table, int64_t row_id,
                           const ProfilePoint& point) {
  if (!point.rounds) return;
  const bool curve = table == "curve_points";
  auto statement = db.cached(fmt::format(
      "UPDATE {} SET rounds = ?, ratio = ?, ratio_ci95_low = ?, ratio_ci95_high = ?, "
      "ratio_rounds = ?, {} = ?, load_average = ?, steal_fraction = ?, raw_round = ? "
      "WHERE id = ?",
      table, curve ? "ratio_to_tokens" : "ratio_to_method"));
  const std::optional<PairedRatioBody>& ratio = point.ratio;
  statement->bind(1, *point.rounds)
      .bind(2, ratio ? std::optional(ratio->median) : std::nullopt)
      .bind(3, ratio ? ratio->ci95_low : std::nullopt)
      .bind(4, ratio ? ratio->ci95_high : std::nullopt)
      .bind(5, ratio ? std::optional(ratio->rounds) : std::nullopt)
      .bind(7, point.load_average)
      .bind(8, point.steal_fraction)
      .bind(9, nlohmann::json(point.raw_round).dump())
      .bind(10, row_id);
  if (curve) {
    statement->bind(6, ratio ? ratio->to_tokens : std::nullopt);
  } else {
    statement->bind(6, ratio ? ratio->to_method : std::nullopt);
  }
  statement->execute();
}

// One measurement_runs row per profile or latency result, and its rounds.
void insert_measurement(Database& db, const ResultTarget& target, const MeasurementBody& body) {
  auto run = db.cached(
      "INSERT INTO measurement_runs (result_id, job_id, device_id, schema_version, protocol, "
      "precision, rounds, sentinel_batch, sentinel_tokens, sentinel_method, drift, "
      "drift_exceeds_precision, max_load_average, load_above_threads) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  run->bind(1, target.result_id)
      .bind(2, target.job_id)
      .bind(3, target.device_id)
      .bind(4, body.schema_version)
      .bind(5, body.method.protocol)
      .bind(6, body.method.precision);
  if (const std::optional<RoundsBody>& rounds = body.rounds) {
    run->bind(7, rounds->count)
        .bind(8, rounds->sentinel_batch)
        .bind(9, rounds->sentinel_tokens)
        .bind(10, rounds->sentinel_method)
        .bind(11, rounds->drift)
        .bind(12, rounds->drift_exceeds_precision)
        .bind(13, rounds->max_load_average)
        .bind(14, rounds->load_above_threads);
  } else {
    for (int column = 7; column <= 14; ++column) run->bind(column, nullptr);
  }
  run->execute();
  if (!body.rounds) return;
  for (const RoundRecordBody& round : body.rounds->rounds) {
    auto statement = db.cached(
        "INSERT INTO measurement_rounds (result_id, round, points_visited, sentinel_median_ms, "
        "load_average, steal_fraction) VALUES (?, ?, ?, ?, ?, ?)");
    statement->bind(1, target.result_id)
        .bind(2, round.round)
        .bind(3, round.points_visited)
        .bind(4, round.sentinel_median_ms)
        .bind(5, round.load_average)
        .bind(6, round.steal_fraction);
    statement->execute();
  }
}

struct BatchStep {
  int64_t batch = 0;
  schedule::LatencyStep step;
};

// The steps of each batch's curve, found on the paired curve with the rules
// the report and the schedule use, so that step_view agrees with both.
// InputError for a curve they refuse (two points at one count).
std::vector<BatchStep> latency_steps_of(const ProfileBody& body) {
  std::set<int64_t> batches;
  for (const ProfilePoint& point : body.points) batches.insert(point.batch);
  std::vector<BatchStep> steps;
  for (const int64_t batch : batches) {
    for (const schedule::LatencyStep& step :
         schedule::find_latency_steps(paired_latency_curve(body, batch))) {
      steps.push_back({batch, step});
    }
  }
  return steps;
}

void insert_steps(Database& db, const ResultTarget& target, const ProfileBody& body,
                  const std::vector<BatchStep>& steps) {
  for (const auto& [batch, step] : steps) {
    auto statement = db.cached(
        "INSERT INTO latency_steps (result_id, job_id, device_id, model, mode, batch, "
        "tokens_below, tokens_above, below_ms, above_ms, height_ms, height_fraction, "
        "saved_from_full_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    statement->bind(1, target.result_id)
        .bind(2, target.job_id)
        .bind(3, target.device_id)
        .bind(4, body.model)
        .bind(5, body.mode)
        .bind(6, batch)
        .bind(7, step.tokens_below)
        .bind(8, step.tokens_above)
        .bind(9, step.below_ms)
        .bind(10, step.above_ms)
        .bind(11, step.height_ms)
        .bind(12, step.height_fraction)
        .bind(13, step.saved_from_full_ms);
    statement->execute();
  }
}

void insert_profile(Database& db, const ResultTarget& target, const ProfileBody& body) {
  insert_measurement(db, target, body.measurement);
  for (const ProfilePoint& point : body.points) {
    auto statement = db.cached(
        "INSERT INTO curve_points (result_id, job_id, device_id, model, mode, batch, tokens, "
        "median_ms, median_ci95_low_ms, median_ci95_high_ms, p5_ms, p25_ms, p75_ms, p95_ms, "
        "mean_ms, stddev_ms, mad_ms, samples, stable, reached_precision, raw_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    statement->bind(1, target.result_id)
        .bind(2, target.job_id)
        .bind(3, target.device_id)
        .bind(4, body.model)
        .bind(5, body.mode)
        .bind(6, point.batch)
        .bind(7, point.tokens)
        .bind(21, nlohmann::json(point.raw_ms).dump());
    bind_statistics(*statement, point);
    statement->execute();
    const int64_t row_id = db.last_insert_rowid();
    insert_power(db, row_id, body, point);
    update_rounds_columns(db, "curve_points", row_id, point);
  }
  insert_steps(db, target, body, latency_steps_of(body));
}

// K, the kernel and the weight bytes of the model a latency point ran on
// (the body's variant with the point's K), and why it has no energy.
void update_clustering_columns(Database& db, int64_t row_id, const LatencyBody& body,
                               const ProfilePoint& point) {
  const auto variant =
      std::find_if(body.variants.begin(), body.variants.end(),
                   [&](const WeightVariantBody& v) { return v.clusters == point.clusters; });
  const bool found = variant != body.variants.end();
  const bool has_energy = point.power && point.power->joules_per_image;
  db.cached(
        "UPDATE method_latency SET clusters = ?, weight_kernel = ?, clustered_weights_sha256 = ?, "
        "weight_bytes_per_forward = ?, power_null_reason = ? WHERE id = ?")
      ->bind(1, point.clusters)
      .bind(2, found ? std::optional(variant->weight_kernel) : std::nullopt)
      .bind(3, found ? variant->clustered_weights_sha256 : std::nullopt)
      .bind(4, found ? variant->weight_bytes_per_forward : std::nullopt)
      .bind(5, has_energy ? std::nullopt
                          : std::optional<std::string>(body.power.null_reason_for(point.power)))
      .bind(6, row_id)
      .execute();
}

// What HDP pruned, on an evaluation or a latency row (NULL without HDP).
void update_hdp_columns(Database& db, std::string_view table, int64_t row_id,
                        const std::optional<HdpBody>& hdp) {
  if (!hdp) return;
  db.cached(fmt::format("UPDATE {} SET hdp_heads = ?, hdp_heads_pruned = ?, hdp_blocks = ?, "
                        "hdp_blocks_pruned = ?, hdp_attention_macs = ?, "
                        "hdp_attention_macs_skipped = ?, hdp_frac_macs_dropped = ? WHERE id = ?",
                        table))
      ->bind(1, hdp->total.heads)
      .bind(2, hdp->total.heads_pruned)
      .bind(3, hdp->total.blocks)
      .bind(4, hdp->total.blocks_pruned)
      .bind(5, hdp->total.macs)
      .bind(6, hdp->total.macs_skipped)
      .bind(7, hdp->total.frac_macs_dropped)
      .bind(8, row_id)
      .execute();
}

void insert_latency(Database& db, const ResultTarget& target, const LatencyBody& body) {
  insert_measurement(db, target, body.measurement);
  for (const ProfilePoint& point : body.points) {
    auto statement = db.cached(
        "INSERT INTO method_latency (result_id, job_id, device_id, model, batch, method, tokens, "
        "median_ms, median_ci95_low_ms, median_ci95_high_ms, p5_ms, p25_ms, p75_ms, p95_ms, "
        "mean_ms, stddev_ms, mad_ms, samples, stable, reached_precision, average_w, "
        "joules_per_image, raw_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    statement->bind(1, target.result_id)
        .bind(2, target.job_id)
        .bind(3, target.device_id)
        .bind(4, body.model)
        .bind(5, point.batch)
        .bind(6, *point.method)
        .bind(7, point.tokens)
        .bind(21, point.power ? point.power->average_w : std::nullopt)
        .bind(22, point.power ? point.power->joules_per_image : std::nullopt)
        .bind(23, nlohmann::json(point.raw_ms).dump());
    bind_statistics(*statement, point);
    statement->execute();
    const int64_t row_id = db.last_insert_rowid();
    update_rounds_columns(db, "method_latency", row_id, point);
    update_clustering_columns(db, row_id, body, point);
    update_hdp_columns(db, "method_latency", row_id, point.hdp);
  }
}

void insert_eval(Database& db, const ResultTarget& target, const EvalBody& body) {
  auto statement = db.cached(
      "INSERT INTO evaluations (result_id, job_id, device_id, model, weights_sha256, dataset, "
      "split, images, method, batch, top1, top5, latency_median_ms) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  statement->bind(1, target.result_id)
      .bind(2, target.job_id)
      .bind(3, target.device_id)
      .bind(4, body.model)
      .bind(5, body.weights_sha256)
      .bind(6, body.dataset)
      .bind(7, body.split)
      .bind(8, body.images)
      .bind(9, body.method)
      .bind(10, body.batch)
      .bind(11, body.top1)
      .bind(12, body.top5)
      .bind(13, body.latency ? std::optional(body.latency->median_ms) : std::nullopt);
  statement->execute();
  const int64_t row_id = db.last_insert_rowid();
  update_hdp_columns(db, "evaluations", row_id, body.hdp);
  if (body.images_sha256) {
    db.cached("UPDATE evaluations SET images_sha256 = ?, top1_correct = ? WHERE id = ?")
        ->bind(1, *body.images_sha256)
        .bind(2, protocol::bits_to_hex(body.top1_correct))
        .bind(3, row_id)
        .execute();
  }
  if (body.clustering) {
    auto clustered = db.cached(
        "UPDATE evaluations SET clusters = ?, clustered_weights_sha256 = ?, "
        "dense_tensor_bytes = ?, clustered_tensor_bytes = ? WHERE id = ?");
    clustered->bind(1, body.clustering->clusters)
        .bind(2, body.clustering->weights_sha256)
        .bind(3, body.clustering->dense_tensor_bytes)
        .bind(4, body.clustering->clustered_tensor_bytes)
        .bind(5, row_id);
    clustered->execute();
  }
}

void insert_accuracy_curve(Database& db, const ResultTarget& target,
                           const AccuracyCurveBody& body) {
  for (const AccuracyPoint& point : body.points) {
    auto statement = db.cached(
        "INSERT INTO accuracy_points (result_id, job_id, model, weights_sha256, dataset, split, "
        "method, tokens, top1, top5, images) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    statement->bind(1, target.result_id)
        .bind(2, target.job_id)
        .bind(3, body.model)
        .bind(4, body.weights_sha256)
        .bind(5, body.dataset)
        .bind(6, body.split)
        .bind(7, body.method)
        .bind(8, point.tokens)
        .bind(9, point.top1)
        .bind(10, point.top5)
        .bind(11, point.images);
    statement->execute();
  }
}

// The architecture once (its id is its content), then a row per batch.
void insert_architecture(Database& db, const ResultTarget& target,
                         const ArchitectureDocument& body) {
  const design::Architecture& a = body.architecture;
  db.cached(
        "INSERT OR IGNORE INTO architectures (id, input, sequence_length, layers, parameters, "
        "flops_per_input, architecture) VALUES (?, ?, ?, ?, ?, ?, ?)")
      ->bind(1, body.architecture_id)
      .bind(2, a.input == design::InputKind::tokens ? "tokens" : "patches")
      .bind(3, a.sequence_length)
      .bind(4, static_cast<int64_t>(a.layers.size()))
      .bind(5, body.parameters)
      .bind(6, body.flops_per_input)
      .bind(7, design::to_json(a).dump())
      .execute();
  insert_measurement(db, target, body.measurement);
  for (const ProfilePoint& point : body.points) {
    const bool has_energy = point.power && point.power->joules_per_image;
    auto statement = db.cached(
        "INSERT INTO architecture_measurements (result_id, job_id, device_id, architecture_id, "
        "batch, median_ms, median_ci95_low_ms, median_ci95_high_ms, samples, rounds, "
        "reached_precision, average_w, peak_w, joules_per_input, idle_w, power_null_reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    statement->bind(1, target.result_id)
        .bind(2, target.job_id)
        .bind(3, target.device_id)
        .bind(4, body.architecture_id)
        .bind(5, point.batch)
        .bind(6, point.median_ms)
        .bind(7, point.median_ci95_low_ms)
        .bind(8, point.median_ci95_high_ms)
        .bind(9, point.samples)
        .bind(10, point.rounds)
        .bind(11, point.reached_precision)
        .bind(12, point.power ? point.power->average_w : std::nullopt)
        .bind(13, point.power ? point.power->peak_w : std::nullopt)
        .bind(14, point.power ? point.power->joules_per_image : std::nullopt)
        .bind(15, body.power.idle_w)
        .bind(16, has_energy ? std::nullopt
                             : std::optional<std::string>(body.power.null_reason_for(point.power)));
    statement->execute();
  }
}

}  // namespace

bool is_agent_result_kind(std::string_view kind) {
  return kind == "profile" || kind == "latency" || kind == "eval" || kind == "accuracy_curve" ||
         kind == "architecture";
}

AgentResultBody parse_agent_result_body(std::string_view kind, const nlohmann::json& body) {
  if (kind == "profile") return parse_profile_body(body);
  if (kind == "latency") return parse_latency_body(body);
  if (kind == "eval") return parse_eval_body(body);
  if (kind == "accuracy_curve") return parse_accuracy_curve_body(body);
  if (kind == "architecture") return protocol::parse_architecture_body(body);
  throw InputError(fmt::format("jobs of kind '{}' do not take results from agents", kind));
}

ParsedResult parse_result(std::string_view kind, const nlohmann::json& body) {
  ParsedResult parsed{std::string(kind), parse_agent_result_body(kind, body), body.dump(), ""};
  parsed.body_sha256 = sha256_hex(parsed.body_json);
  return parsed;
}

const BodyProvenance& provenance_of(const AgentResultBody& body) {
  return std::visit([](const auto& parsed) -> const BodyProvenance& { return parsed.provenance; },
                    body);
}

void insert_result_rows(Database& db, const ResultTarget& target, const AgentResultBody& body) {
  if (const auto* profile = std::get_if<ProfileBody>(&body)) {
    insert_profile(db, target, *profile);
  } else if (const auto* latency = std::get_if<LatencyBody>(&body)) {
    insert_latency(db, target, *latency);
  } else if (const auto* eval = std::get_if<EvalBody>(&body)) {
    insert_eval(db, target, *eval);
  } else if (const auto* curve = std::get_if<AccuracyCurveBody>(&body)) {
    insert_accuracy_curve(db, target, *curve);
  } else {
    insert_architecture(db, target, std::get<ArchitectureDocument>(body));
  }
}

// Profiles stored before migration 010 have no latency_steps rows: their
// bodies are read again with this binary's reader. A body it refuses (a
// document an older agent wrote differently) is left without steps and
// counted; the report still finds its steps from curve_points.
void backfill_latency_steps(Database& db, StepBackfill& backfill) {
  auto profiles = db.prepare(
      "SELECT r.id, r.job_id, coalesce(r.device_id, j.device_id), r.body FROM results r "
      "JOIN jobs j ON j.id = r.job_id WHERE j.kind = 'profile' AND NOT EXISTS "
      "(SELECT 1 FROM latency_steps s WHERE s.result_id = r.id) ORDER BY r.id");
  while (profiles.step()) {
    const ResultTarget target{profiles.column_int64(0), profiles.column_int64(1),
                              profiles.column_is_null(2) ? 0 : profiles.column_int64(2)};
    std::optional<ProfileBody> body;
    std::vector<BatchStep> steps;
    std::string error;
    if (target.device_id == 0) {
      error = "its result and job name no device";
    } else {
      // Reading and the steps are pure: what they refuse is counted; a
      // database error propagates and rolls the migration back.
      try {
        body = parse_profile_body(nlohmann::json::parse(profiles.column_text(3)));
        steps = latency_steps_of(*body);
      } catch (const InputError& refused) {
        body.reset();
        error = refused.what();
      } catch (const nlohmann::json::exception& malformed) {
        body.reset();
        error = malformed.what();
      }
    }
    if (!body) {
      if (backfill.unreadable++ == 0) {
        backfill.first_error = fmt::format("result {}: {}", target.result_id, error);
      }
      continue;
    }
    ++backfill.profiles;
    backfill.steps += static_cast<int64_t>(steps.size());
    insert_steps(db, target, *body, steps);
  }
}

}  // namespace tailsweep::store
