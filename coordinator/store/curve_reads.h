#pragma once
// The two curves POMT's schedule trades off, read back from the results
// database: shared by the coordinator's schedule job and `tailsweep schedule
// pomt --db`, so both compute from the same numbers.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/latency_steps.h"
#include "analysis/pomt_schedule.h"
#include "common/wire/result_document.h"
#include "coordinator/store/sqlite.h"

namespace tailsweep::store {

// One batch of a profile job's curve, on its reference's scale
// (schedule::paired_curve): measured in rounds, a point's latency is its
// paired ratio times its reference's median, so the machine's drift between
// rounds cancels; a point without a ratio stays as measured.
std::vector<schedule::LatencyPoint> paired_latency_curve(Database& db, int64_t job_id,
                                                         int64_t batch);

// One batch of a profile document's curve on its reference's scale, as
// paired_latency_curve reads the same points back from the database (the
// agent's file, or a result as it arrives).
std::vector<schedule::LatencyPoint> paired_latency_curve(const protocol::ProfileBody& body,
                                                         int64_t batch);

// An accuracy_curve job's A(n), top-1 as a fraction, ascending in tokens.
std::vector<schedule::CurvePoint> accuracy_curve(Database& db, int64_t job_id);

// Which jobs of the database hold the curves of one device, model and batch.
struct CurveSelection {
  std::string device;
  std::string model;
  int64_t batch = 0;
  std::optional<int64_t> sweep_id;  // none: the newest job of any sweep
};
struct CurveJobs {
  int64_t profile_job = 0;
  int64_t accuracy_job = 0;
  std::optional<int64_t> model_tokens;  // N, as the profile's agent built the model
};
// The newest whole-model profile of the device, model and batch, and the
// newest accuracy curve of the model (in the sweep, when one is given).
// InputError naming what is missing, and what the database has instead.
CurveJobs find_curve_jobs(Database& db, const CurveSelection& selection);

}  // namespace tailsweep::store
