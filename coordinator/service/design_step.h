#pragma once
// One step of a device's active-learning loop over a design space
// (docs/design_space.md), run by the coordinator once the architectures the
// previous step queued are measured: fit each target's surrogate (its
// held-out error into surrogate_fits), then queue the next batch and the
// next step, or the predicted minima, or nothing (converged, budget spent,
// space exhausted). Its result and the jobs it queues land together.
#include <cstdint>
#include <vector>

#include "coordinator/store/design_steps.h"
#include "coordinator/store/store.h"

namespace tailsweep::coordinator {

// What a step decided: its result and the jobs it queues.
struct DesignStepOutcome {
  store::DesignStepBody body;
  std::vector<store::PlannedJob> jobs;
};

// The reads and the fits, no writes: seconds of XGBoost at a few hundred
// architectures, so the coordinator runs it on its maintenance thread, never
// in the writer (coordinator_service.h).
DesignStepOutcome plan_design_step(store::Store& store, const store::JobRow& job);
// Stores the step's result and queues its jobs, in one transaction; throws
// when the job is no longer a queued coordinator job.
void apply_design_step(store::Store& store, const store::JobRow& job,
                       const DesignStepOutcome& outcome, double now_s);
// Both, on one store.
void run_design_step(store::Store& store, const store::JobRow& job, double now_s);

}  // namespace tailsweep::coordinator
