// The coordinator's own background work: expired leases back to the queue,
// and the jobs it runs itself (POMT schedules), which then queue POMT's
// evaluation at the schedule's R.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "common/pomt_schedule.h"
#include "coordinator/service/coordinator_service.h"
#include "coordinator/service/sweep_plan.h"

namespace tailsweep::coordinator {
namespace {

using nlohmann::json;

struct SourceJobs {
  std::optional<int64_t> profile;
  std::optional<int64_t> accuracy;
};

SourceJobs source_jobs(store::Database& db, int64_t job_id) {
  SourceJobs sources;
  auto statement = db.cached(
      "SELECT j.id, j.kind FROM job_dependencies d JOIN jobs j ON j.id = d.depends_on_job_id "
      "WHERE d.job_id = ?1");
  statement->bind(1, job_id);
  while (statement->step()) {
    const std::string kind = statement->column_text(1);
    if (kind == "profile") sources.profile = statement->column_int64(0);
    if (kind == "accuracy_curve") sources.accuracy = statement->column_int64(0);
  }
  return sources;
}

std::vector<schedule::CurvePoint> latency_curve(store::Database& db, int64_t job_id,
                                                int64_t batch) {
  std::vector<schedule::CurvePoint> curve;
  auto statement = db.cached(
      "SELECT tokens, median_ms FROM curve_points WHERE job_id = ?1 AND batch = ?2 "
      "ORDER BY tokens");
  statement->bind(1, job_id).bind(2, batch);
  while (statement->step()) {
    curve.push_back({statement->column_int64(0), statement->column_double(1)});
  }
  return curve;
}

std::vector<schedule::CurvePoint> accuracy_curve(store::Database& db, int64_t job_id) {
  std::vector<schedule::CurvePoint> curve;
  auto statement =
      db.cached("SELECT tokens, top1 FROM accuracy_points WHERE job_id = ?1 ORDER BY tokens");
  statement->bind(1, job_id);
  while (statement->step()) {
    curve.push_back({statement->column_int64(0), statement->column_double(1)});
  }
  return curve;
}

bool sweep_has_eval(store::Database& db, int64_t sweep_id, const std::string& spec_json) {
  auto statement = db.cached(
      "SELECT 1 FROM jobs WHERE sweep_id = ?1 AND kind = 'eval' AND spec = ?2 LIMIT 1");
  statement->bind(1, sweep_id).bind(2, spec_json);
  return statement->step();
}

// Computes one schedule job; returns the eval job POMT's R calls for, if any.
void compute_schedule(store::Store& store, const store::JobRow& job) {
  const ScheduleJobSpec spec = parse_schedule_job_spec(json::parse(job.spec_json));
  store::Database& db = store.database();
  const SourceJobs sources = source_jobs(db, job.id);
  if (!sources.profile || !sources.accuracy) {
    throw InputError("a schedule job needs a profile and an accuracy-curve dependency");
  }
  const auto latency = latency_curve(db, *sources.profile, spec.batch);
  const auto accuracy = accuracy_curve(db, *sources.accuracy);
  const schedule::PomtSchedule result =
      schedule::pomt_schedule(latency, accuracy, spec.alpha, spec.tokens_total);
  const json body = {{"device_id", spec.device_id},
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
                     {"source_job_ids", {*sources.profile, *sources.accuracy}}};
  const double now = unix_now_s();
  store.complete_coordinator_job(job.id, body.dump(), now);
  if (spec.pomt_eval && job.sweep_id) {
    json eval = *spec.pomt_eval;
    eval["method"] = fmt::format("pomt:{}@{}", result.r, spec.layer);
    const std::string eval_json = eval.dump();
    // One evaluation per distinct R: devices that agree share it.
    if (!sweep_has_eval(db, *job.sweep_id, eval_json)) {
      store::PlannedJob planned;
      planned.kind = "eval";
      planned.spec_json = eval_json;
      store.add_jobs(*job.sweep_id, {planned}, now);
    }
  }
}

}  // namespace

void CoordinatorService::run_coordinator_jobs(store::Store& store) {
  for (const store::JobRow& job : store.ready_coordinator_jobs()) {
    try {
      if (job.kind != "schedule") {
        throw InputError(fmt::format("the coordinator runs no '{}' jobs", job.kind));
      }
      compute_schedule(store, job);
    } catch (const std::exception& error) {
      fmt::print(stderr, "tailsweep: job {} ({}) failed: {}\n", job.id, job.kind, error.what());
      store.fail_coordinator_job(job.id, error.what(), unix_now_s());
    }
    waiters_.notify();  // an evaluation may have been queued, or a sweep finished
  }
}

void CoordinatorService::run_maintenance() {
  std::unique_lock lock(maintenance_mutex_);
  while (!stopping_) {
    maintenance_wake_.wait_for(lock, options_.maintenance_period);
    if (stopping_) break;
    lock.unlock();
    try {
      store::Store& store = stores_.local();
      if (store.requeue_expired(unix_now_s()) > 0) waiters_.notify();
      run_coordinator_jobs(store);
    } catch (const std::exception& error) {
      // The database being busy or briefly unavailable is not fatal: try again next period.
      fmt::print(stderr, "tailsweep: maintenance: {}\n", error.what());
    }
    lock.lock();
  }
}

}  // namespace tailsweep::coordinator
