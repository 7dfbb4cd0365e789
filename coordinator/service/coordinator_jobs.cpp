#include "coordinator/service/coordinator_jobs.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "analysis/latency_steps.h"
#include "analysis/matched_latency.h"
#include "analysis/pomt_schedule.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/wire/protocol.h"
#include "common/wire/result_document.h"
#include "coordinator/service/design_step.h"
#include "coordinator/service/sweep_plan.h"
#include "coordinator/store/curve_reads.h"
#include "coordinator/store/sqlite.h"

namespace tailsweep::coordinator {
namespace {

using nlohmann::json;

// The jobs a coordinator job depends on, by kind.
std::map<std::string, int64_t> dependencies_by_kind(store::Database& db, int64_t job_id) {
  std::map<std::string, int64_t> sources;
  auto statement = db.cached(
      "SELECT j.id, j.kind FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on_job_id "
      "WHERE d.job_id = ?1");
  statement->bind(1, job_id);
  while (statement->step()) sources[statement->column_text(1)] = statement->column_int64(0);
  return sources;
}

int64_t dependency(const std::map<std::string, int64_t>& sources, const std::string& kind,
                   const store::JobRow& job) {
  const auto found = sources.find(kind);
  if (found == sources.end()) {
    throw InputError(fmt::format("{} job {} has no '{}' dependency", job.kind, job.id, kind));
  }
  return found->second;
}

// Method -> latency of one latency job at one batch: the paired ratio to
// "none" times none's median when measured in rounds, else the median; and
// whether the point reached its precision.
struct TimedMethod {
  double latency_ms = 0;
  bool reached_precision = false;
};
std::map<std::string, TimedMethod> method_latencies(store::Database& db, int64_t job_id,
                                                    int64_t batch) {
  std::map<std::string, TimedMethod> latencies;
  auto statement = db.cached(
      "SELECT m.method, coalesce(m.ratio * r.median_ms, m.median_ms), m.reached_precision "
      "FROM method_latency m "
      "LEFT JOIN method_latency r ON r.job_id = m.job_id AND r.batch = m.batch "
      "AND r.method = m.ratio_to_method AND r.clusters IS NULL "
      "WHERE m.job_id = ?1 AND m.batch = ?2 AND m.clusters IS NULL "
      "ORDER BY m.id");  // a later row of a method wins
  statement->bind(1, job_id).bind(2, batch);
  while (statement->step()) {
    latencies[statement->column_text(0)] = {statement->column_double(1),
                                            statement->column_int64(2) != 0};
  }
  return latencies;
}

// What the curve a schedule is computed from held (docs/sweeps.md): every
// point is used; those short of their precision or unstable are counted,
// and the point at n* says whether it reached its own.
store::CurveValidity curve_validity(store::Database& db, int64_t job_id, int64_t batch,
                                    int64_t n_star) {
  auto statement = db.cached(
      "SELECT count(*), coalesce(sum(reached_precision = 0), 0), coalesce(sum(stable = 0), 0), "
      "       max(CASE WHEN tokens = ?3 THEN reached_precision END) "
      "FROM curve_points WHERE job_id = ?1 AND batch = ?2");
  statement->bind(1, job_id).bind(2, batch).bind(3, n_star);
  store::CurveValidity validity;
  if (statement->step()) {
    validity.points = statement->column_int64(0);
    validity.below_precision = statement->column_int64(1);
    validity.unstable = statement->column_int64(2);
    if (const auto reached = statement->column_optional_int64(3)) {
      validity.n_star_reached_precision = *reached != 0;
    }
  }
  return validity;
}

// A job that `parent` adds to its sweep: it keeps the sweep's retry limit
// (docs/sweeps.md, "max_attempts"), which plan_sweep gave every job.
store::PlannedJob follow_on(const store::JobRow& parent) {
  store::PlannedJob planned;
  planned.max_attempts = parent.max_attempts;
  return planned;
}

// Queues the evaluation of `method` from an eval template, unless the sweep
// already has that very job: devices that agree share it. Returns its id.
int64_t queue_eval_once(store::Store& store, const store::JobRow& parent, json eval,
                        const std::string& method, double now_s) {
  const int64_t sweep_id = *parent.sweep_id;
  eval["method"] = method;
  const std::string eval_json = eval.dump();
  auto statement = store.database().cached(
      "SELECT id FROM jobs WHERE sweep_id = ?1 AND kind = 'eval' AND spec = ?2 LIMIT 1");
  statement->bind(1, sweep_id).bind(2, eval_json);
  if (statement->step()) return statement->column_int64(0);
  store::PlannedJob planned = follow_on(parent);
  planned.kind = "eval";
  planned.spec_json = eval_json;
  planned.priority = kEvalPriority;
  return store.add_jobs(sweep_id, {planned}, now_s).front();
}

// Queues a simulated device's hdp_latency job: its latency job of `methods`
// (after "none"), once the evaluations that measure them are done.
void queue_hdp_latency(store::Store& store, const store::JobRow& parent, int64_t device_id,
                       const json& latency_template, const std::vector<std::string>& methods,
                       const std::vector<int64_t>& evals, double now_s) {
  protocol::ProfileJobSpec latency = protocol::parse_profile_job_spec(latency_template);
  latency.methods = {"none"};
  latency.methods.insert(latency.methods.end(), methods.begin(), methods.end());
  store::PlannedJob planned = hdp_latency_job(device_id, std::move(latency));
  planned.max_attempts = parent.max_attempts;
  planned.depends_on_job_ids = evals;
  store.add_jobs(*parent.sweep_id, {planned}, now_s);
}

std::string canonical(const std::string& method) { return to_string(parse_method_spec(method)); }

void run_schedule(store::Store& store, const store::JobRow& job, double now_s) {
  const ScheduleJobSpec spec = parse_schedule_job_spec(json::parse(job.spec_json));
  store::Database& db = store.database();
  const auto sources = dependencies_by_kind(db, job.id);
  const int64_t profile_job = dependency(sources, "profile", job);
  const int64_t accuracy_job = dependency(sources, "accuracy_curve", job);
  const std::vector<schedule::LatencyPoint> curve =
      store::paired_latency_curve(db, profile_job, spec.batch);
  std::vector<schedule::CurvePoint> latency;
  for (const schedule::LatencyPoint& point : curve) latency.push_back({point.tokens, point.median_ms});
  const schedule::PomtSchedule result = schedule::pomt_schedule(
      latency, store::accuracy_curve(db, accuracy_job), spec.alpha, spec.tokens_total);
  // The step-aligned variant: the same n*, landing below a step that the
  // reference's n* + 2 would cross (steps found on the paired curve).
  std::vector<std::pair<int64_t, int64_t>> steps;
  for (const schedule::LatencyStep& step : schedule::find_latency_steps(curve)) {
    steps.emplace_back(step.tokens_below, step.tokens_above);
  }
  const schedule::AlignedSchedule aligned =
      schedule::align_to_steps(result, steps, spec.tokens_total);
  const store::CurveValidity validity = curve_validity(db, profile_job, spec.batch, result.n_star);
  json body = {{"device_id", spec.device_id},
               {"model", spec.model},
               {"batch", spec.batch},
               {"method", "pomt"},
               {"alpha", spec.alpha},
               {"tokens_total", spec.tokens_total},
               {"n_star", result.n_star},
               {"r", result.r},
               {"layer", spec.layer},
               {"latency_at_n_star_ms", result.latency_at_n_star_ms},
               {"baseline_latency_ms", result.baseline_latency_ms},
               {"source_job_ids", {profile_job, accuracy_job}},
               {"validity",
                {{"points", validity.points},
                 {"below_precision", validity.below_precision},
                 {"unstable", validity.unstable},
                 {"n_star_reached_precision", validity.n_star_reached_precision
                                                  ? json(*validity.n_star_reached_precision)
                                                  : json(nullptr)}}}};
  if (spec.aligned) {
    body["aligned"] = {{"r", aligned.r},
                       {"tokens_after_pruning", aligned.tokens_after_pruning},
                       {"step_below", aligned.moved() ? json(aligned.step_below) : json(nullptr)},
                       {"step_above", aligned.moved() ? json(aligned.step_above) : json(nullptr)}};
  }
  store::Transaction transaction(db);
  store.complete_coordinator_job(job.id, body.dump(), now_s);
  if (job.sweep_id) {
    const std::string pomt = canonical(fmt::format("pomt:{}@{}", result.r, spec.layer));
    std::vector<std::string> schedules{pomt};
    if (spec.aligned) {
      const std::string pomt_aligned = canonical(fmt::format("pomt:{}@{}", aligned.r, spec.layer));
      if (pomt_aligned != pomt) schedules.push_back(pomt_aligned);
    }
    // HDP on top of POMT's own schedule (docs/hdp.md): pomt:R@L+hdp:...
    std::vector<std::string> composed;
    for (const std::string& hdp : spec.hdp_methods) {
      composed.push_back(canonical(fmt::format("{}+{}", pomt, hdp)));
    }
    std::vector<int64_t> composed_evals;
    if (spec.pomt_eval) {
      for (const std::string& method : schedules) {
        queue_eval_once(store, job, *spec.pomt_eval, method, now_s);
      }
      for (const std::string& method : composed) {
        composed_evals.push_back(queue_eval_once(store, job, *spec.pomt_eval, method, now_s));
      }
    }
    std::vector<std::string> timed = schedules;
    if (!spec.device_simulated) timed.insert(timed.end(), composed.begin(), composed.end());
    if (spec.device_simulated && spec.latency_job && !composed_evals.empty()) {
      queue_hdp_latency(store, job, spec.device_id, *spec.latency_job, composed, composed_evals,
                        now_s);
    }
    if (spec.latency_job) {
      // This device times POMT (both variants, and with each HDP setting)
      // beside the baseline and the candidates, in one job, so that they
      // share its conditions.
      json latency = *spec.latency_job;
      json& methods = latency["methods"];
      for (const std::string& method : timed) {
        if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
          methods.push_back(method);
        }
      }
      std::vector<store::PlannedJob> jobs{follow_on(job)};
      jobs[0].kind = "latency";
      jobs[0].device_id = spec.device_id;
      jobs[0].spec_json = latency.dump();
      jobs[0].priority = kLatencyPriority;
      if (spec.matched) {
        MatchJobSpec match;
        match.device_id = spec.device_id;
        match.model = spec.model;
        match.batch = spec.batch;
        match.target_method = pomt;
        match.tolerance = spec.match_tolerance;
        match.families.assign(std::begin(schedule::kMatchedFamilies),
                              std::end(schedule::kMatchedFamilies));
        match.eval = spec.pomt_eval;
        store::PlannedJob& planned = jobs.emplace_back(follow_on(job));
        planned.kind = "match";
        planned.runner = std::string(store::kRunnerCoordinator);
        planned.device_id = spec.device_id;
        planned.spec_json = to_json(match).dump();
        planned.depends_on = {0};
      }
      store.add_jobs(*job.sweep_id, jobs, now_s);
    }
  }
  transaction.commit();
}

// The result body of the evaluation a job depends on for `method`, with
// that evaluation's job id.
std::pair<int64_t, json> evaluation_of(store::Database& db, const store::JobRow& job,
                                       const std::string& method) {
  auto statement = db.cached(
      "SELECT j.id, json_extract(j.spec, '$.method'), "
      "       (SELECT r.body FROM results r WHERE r.job_id = j.id ORDER BY r.id DESC LIMIT 1) "
      "FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on_job_id "
      "WHERE d.job_id = ?1 AND j.kind = 'eval' ORDER BY j.id");
  statement->bind(1, job.id);
  while (statement->step()) {
    if (canonical(statement->column_text(1)) != method) continue;
    const std::optional<std::string> body = statement->column_optional_text(2);
    if (!body)
      throw InputError(fmt::format("eval job {} has no result", statement->column_int64(0)));
    return {statement->column_int64(0), json::parse(*body)};
  }
  throw InputError(
      fmt::format("{} job {} depends on no evaluation of {}", job.kind, job.id, method));
}

// A simulated device's latency job of HDP methods, with the shares of heads
// and blocks that the evaluations it depends on measured: what the device's
// GPU model takes for HDP (docs/hdp.md).
void run_hdp_latency(store::Store& store, const store::JobRow& job, double now_s) {
  HdpLatencyJobSpec spec = parse_hdp_latency_job_spec(json::parse(job.spec_json));
  store::Database& db = store.database();
  protocol::ProfileJobSpec& latency = spec.latency_job;
  latency.hdp_shares.clear();
  json shares = json::array();
  for (const std::string& method : latency.methods) {
    if (!parse_method_spec(method).hdp) continue;
    const auto [eval_job, body] = evaluation_of(db, job, canonical(method));
    protocol::HdpMeasuredShares measured =
        protocol::hdp_shares_of(protocol::parse_eval_body(body), eval_job);
    measured.method = method;  // as the latency job lists it
    const int64_t depth = parse_model_spec(latency.model).depth;
    if (static_cast<int64_t>(measured.heads_pruned.size()) != depth) {
      throw InputError(fmt::format("eval job {} measured {} blocks of {}; {} has {}", eval_job,
                                   measured.heads_pruned.size(), method, latency.model, depth));
    }
    shares.push_back(protocol::to_json(measured));
    latency.hdp_shares.push_back(std::move(measured));
  }
  const json result = {{"device_id", spec.device_id}, {"hdp_shares", shares}};
  store::Transaction transaction(db);
  store.complete_coordinator_job(job.id, result.dump(), now_s);
  if (job.sweep_id) {
    store::PlannedJob planned = follow_on(job);
    planned.kind = "latency";
    planned.device_id = spec.device_id;
    planned.spec_json = protocol::to_json(latency).dump();
    planned.priority = kLatencyPriority;
    store.add_jobs(*job.sweep_id, {planned}, now_s);
  }
  transaction.commit();
}

void run_match(store::Store& store, const store::JobRow& job, double now_s) {
  const MatchJobSpec spec = parse_match_job_spec(json::parse(job.spec_json));
  const VitConfig config = parse_model_spec(spec.model);
  store::Database& db = store.database();
  const int64_t latency_job = dependency(dependencies_by_kind(db, job.id), "latency", job);
  const std::map<std::string, TimedMethod> latencies =
      method_latencies(db, latency_job, spec.batch);
  const auto target = latencies.find(spec.target_method);
  if (target == latencies.end()) {
    throw InputError(fmt::format("latency job {} did not time {} at batch {}", latency_job,
                                 spec.target_method, spec.batch));
  }
  json matches = json::array();
  std::vector<std::string> chosen;
  for (const std::string& family : spec.families) {
    std::vector<schedule::MethodLatency> candidates;
    for (const std::string& method : schedule::matching_candidates(family, config)) {
      const auto found = latencies.find(method);
      if (found != latencies.end()) candidates.push_back({method, found->second.latency_ms});
    }
    const schedule::MatchedBaseline matched =
        schedule::match_latency(target->second.latency_ms, candidates, spec.tolerance);
    matches.push_back({{"family", family},
                       {"method", matched.method},
                       {"latency_ms", matched.latency_ms},
                       {"relative_gap", matched.relative_gap},
                       {"within_tolerance", matched.within_tolerance},
                       {"candidates", matched.candidates},
                       {"reached_precision", latencies.at(matched.method).reached_precision}});
    chosen.push_back(matched.method);
  }
  const json body = {{"device_id", spec.device_id},
                     {"model", spec.model},
                     {"batch", spec.batch},
                     {"target_method", spec.target_method},
                     {"target_latency_ms", target->second.latency_ms},
                     {"target_reached_precision", target->second.reached_precision},
                     {"tolerance", spec.tolerance},
                     {"latency_job_id", latency_job},
                     {"matches", matches}};
  store::Transaction transaction(db);
  store.complete_coordinator_job(job.id, body.dump(), now_s);
  if (job.sweep_id && spec.eval) {
    for (const std::string& method : chosen) {
      queue_eval_once(store, job, *spec.eval, method, now_s);
    }
  }
  transaction.commit();
}

}  // namespace

MatchJobSpec parse_match_job_spec(const json& spec) {
  const JsonFields f(spec, "match job");
  f.reject_unknown(
      {"device_id", "model", "batch", "target_method", "tolerance", "families", "eval"});
  MatchJobSpec result;
  result.device_id = f.integer("device_id", 1);
  result.model = f.text("model");
  parse_model_spec(result.model);
  result.batch = f.integer("batch", 1);
  result.target_method = f.text("target_method");
  result.tolerance = f.number("tolerance");
  if (!(result.tolerance > 0 && result.tolerance < 1)) f.fail("tolerance", "outside (0, 1)");
  result.families = f.string_list("families");
  for (const std::string& family : result.families) {
    if (std::find(std::begin(schedule::kMatchedFamilies), std::end(schedule::kMatchedFamilies),
                  family) == std::end(schedule::kMatchedFamilies)) {
      f.fail("families", fmt::format("'{}' is neither topk nor tome", family));
    }
  }
  if (f.has("eval") && !f.is_null("eval")) {
    f.object("eval");
    result.eval = f.at("eval");
  }
  return result;
}

json to_json(const MatchJobSpec& spec) {
  return {{"device_id", spec.device_id},
          {"model", spec.model},
          {"batch", spec.batch},
          {"target_method", spec.target_method},
          {"tolerance", spec.tolerance},
          {"families", spec.families},
          {"eval", spec.eval ? *spec.eval : json(nullptr)}};
}

void run_coordinator_job(store::Store& store, const store::JobRow& job, double now_s) {
  if (job.kind == "schedule") return run_schedule(store, job, now_s);
  if (job.kind == "match") return run_match(store, job, now_s);
  if (job.kind == "hdp_latency") return run_hdp_latency(store, job, now_s);
  if (job.kind == "design_step") return run_design_step(store, job, now_s);
  throw InputError(fmt::format("the coordinator runs no '{}' jobs", job.kind));
}

}  // namespace tailsweep::coordinator
