#pragma once
// One step of a device's active-learning loop over a design space
// (docs/design_space.md), run by the coordinator once the architectures the
// previous step queued are measured: fit each target's surrogate (its
// held-out error into surrogate_fits), then queue the next batch and the
// next step, or the predicted minima, or nothing (converged, budget spent,
// space exhausted). Its result and the jobs it queues land together.
#include "coordinator/store/store.h"

namespace tailsweep::coordinator {

void run_design_step(store::Store& store, const store::JobRow& job, double now_s);

}  // namespace tailsweep::coordinator
