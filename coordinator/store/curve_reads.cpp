#include "coordinator/store/curve_reads.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/util/errors.h"

namespace tailsweep::store {

std::vector<schedule::LatencyPoint> paired_latency_curve(Database& db, int64_t job_id,
                                                         int64_t batch) {
  std::vector<schedule::PairedPoint> points;
  auto statement = db.cached(
      "SELECT tokens, median_ms, median_ci95_low_ms, median_ci95_high_ms, ratio, ratio_ci95_low, "
      "ratio_ci95_high, ratio_to_tokens FROM curve_points WHERE job_id = ?1 AND batch = ?2 "
      "ORDER BY tokens");
  statement->bind(1, job_id).bind(2, batch);
  while (statement->step()) {
    const double median = statement->column_double(1);
    points.push_back(
        {{statement->column_int64(0), median, statement->column_optional_double(2).value_or(median),
          statement->column_optional_double(3).value_or(median)},
         statement->column_optional_double(4),
         statement->column_optional_double(5),
         statement->column_optional_double(6),
         statement->column_optional_int64(7)});
  }
  return schedule::paired_curve(points);
}

std::vector<schedule::LatencyPoint> paired_latency_curve(const protocol::ProfileBody& body,
                                                         int64_t batch) {
  std::vector<schedule::PairedPoint> points;
  for (const protocol::ProfilePoint& point : body.points) {
    if (point.batch != batch) continue;
    schedule::PairedPoint paired;
    paired.measured = {point.tokens, point.median_ms,
                       point.median_ci95_low_ms.value_or(point.median_ms),
                       point.median_ci95_high_ms.value_or(point.median_ms)};
    if (point.ratio) {
      paired.ratio = point.ratio->median;
      paired.ratio_ci_low = point.ratio->ci95_low;
      paired.ratio_ci_high = point.ratio->ci95_high;
      paired.ratio_to_tokens = point.ratio->to_tokens;
    }
    points.push_back(paired);
  }
  return schedule::paired_curve(points);
}

std::vector<schedule::CurvePoint> accuracy_curve(Database& db, int64_t job_id) {
  std::vector<schedule::CurvePoint> curve;
  auto statement =
      db.cached("SELECT tokens, top1 FROM accuracy_points WHERE job_id = ?1 ORDER BY tokens");
  statement->bind(1, job_id);
  while (statement->step()) {
    curve.push_back({statement->column_int64(0), statement->column_double(1)});
  }
  return curve;
}

namespace {

// What the database does have, for an error that says where to look.
std::string profiled_choices(Database& db, const CurveSelection& selection) {
  auto statement = db.cached(
      "SELECT DISTINCT d.name || ' ' || c.model || ' batch ' || c.batch FROM curve_points c "
      "JOIN devices d ON d.id = c.device_id JOIN jobs j ON j.id = c.job_id "
      "WHERE c.mode = 'model' AND (?1 IS NULL OR j.sweep_id = ?1) ORDER BY 1 LIMIT 20");
  statement->bind(1, selection.sweep_id);
  std::vector<std::string> choices;
  while (statement->step()) choices.push_back(statement->column_text(0));
  return choices.empty() ? "no whole-model profiles at all"
                         : fmt::format("profiles of {}", fmt::join(choices, ", "));
}

}  // namespace

CurveJobs find_curve_jobs(Database& db, const CurveSelection& selection) {
  const std::string in_sweep =
      selection.sweep_id ? fmt::format(" in sweep {}", *selection.sweep_id) : "";
  CurveJobs jobs;
  auto profile = db.cached(
      "SELECT c.job_id, json_extract(r.body, '$.model.tokens') FROM curve_points c "
      "JOIN devices d ON d.id = c.device_id JOIN jobs j ON j.id = c.job_id "
      "JOIN results r ON r.id = c.result_id "
      "WHERE d.name = ?1 AND c.model = ?2 AND c.batch = ?3 AND c.mode = 'model' "
      "AND (?4 IS NULL OR j.sweep_id = ?4) ORDER BY c.job_id DESC LIMIT 1");
  profile->bind(1, selection.device)
      .bind(2, selection.model)
      .bind(3, selection.batch)
      .bind(4, selection.sweep_id);
  if (!profile->step()) {
    throw InputError(fmt::format("no profile of {} on {} at batch {}{}; the database has {}",
                                 selection.model, selection.device, selection.batch, in_sweep,
                                 profiled_choices(db, selection)));
  }
  jobs.profile_job = profile->column_int64(0);
  jobs.model_tokens = profile->column_optional_int64(1);
  auto accuracy = db.cached(
      "SELECT p.job_id FROM accuracy_points p JOIN jobs j ON j.id = p.job_id "
      "WHERE p.model = ?1 AND (?2 IS NULL OR j.sweep_id = ?2) ORDER BY p.job_id DESC LIMIT 1");
  accuracy->bind(1, selection.model).bind(2, selection.sweep_id);
  if (!accuracy->step()) {
    throw InputError(fmt::format("no accuracy curve of {}{} (a sweep with \"accuracy_curve\")",
                                 selection.model, in_sweep));
  }
  jobs.accuracy_job = accuracy->column_int64(0);
  return jobs;
}

}  // namespace tailsweep::store
