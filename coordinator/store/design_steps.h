#pragma once
// The design space's active learning in the database (docs/design_space.md):
// what a device has measured so far, each step's result (a 'design_step'
// job run by the coordinator) with its surrogates' held-out errors in
// surrogate_fits, and those errors step by step.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/design/architecture.h"
#include "coordinator/store/sqlite.h"

namespace tailsweep::store {

// One architecture measured on a device at the loop's batch.
struct MeasuredArchitecture {
  std::string id;
  design::Architecture architecture;
  double ms_per_input = 0;
  std::optional<double> joules_per_input;  // null without a sensor
  std::optional<double> peak_w;
  std::optional<std::string> power_null_reason;
};

// In the order they were stored.
std::vector<MeasuredArchitecture> measured_architectures(Database& db, int64_t sweep_id,
                                                         int64_t device_id, int64_t batch);

// One surrogate's fit at a step: its held-out error, or why there is none.
struct SurrogateFit {
  std::string target;  // latency | energy | peak_power
  int64_t samples = 0;
  std::optional<int64_t> train, test;
  std::optional<double> nmse;   // normalised by twice the largest measured value
  std::optional<double> scale;  // that normaliser
  bool converged = false;       // the last `patience` fits all under the limit
  std::optional<std::string> null_reason;
};

// {"device_id","step","batch","selection","phase","measured","fits":[...],
//  "queued":[architecture ids],"stop"(nullable)}
struct DesignStepBody {
  int64_t device_id = 0;
  int64_t step = 1;
  int64_t batch = 1;
  std::string selection;  // uncertainty | random
  std::string phase;      // explore | minima
  int64_t measured = 0;   // architectures measured on the device before this step
  std::vector<SurrogateFit> fits;
  std::vector<std::string> queued;
  std::optional<std::string> stop;  // converged | budget | space: why nothing more was queued
};
DesignStepBody parse_design_step_body(const nlohmann::json& body);
nlohmann::json to_json(const DesignStepBody& body);

// Its fits into surrogate_fits, inside the caller's transaction.
void insert_design_step(Database& db, std::optional<int64_t> sweep_id, int64_t job_id,
                        const DesignStepBody& body);

// A target's held-out errors on this device, step by step (nulls left out).
std::vector<double> nmse_by_step(Database& db, int64_t sweep_id, int64_t device_id,
                                 const std::string& target);

}  // namespace tailsweep::store
