#pragma once
// One architecture of a design space (common/design/architecture.h): what
// `tailsweep-agent profile --arch` runs and what an agent runs for an
// 'architecture' job. Each batch on the full sequence with seeded random
// weights, in rounds to the request's precision, with energy and peak power
// where the device has a sensor (docs/design_space.md).
#include <nlohmann/json_fwd.hpp>

#include "agent/measure/profiling.h"
#include "common/design/architecture.h"

namespace tailsweep::agent {

// Uses the request's device, batches, run.seed (weights, inputs, order),
// run.threads and measuring options. InputError for the options that time
// something else (tokens, methods, weights, clusters, block mode, POMT's
// fixed time) and for an invalid architecture.
nlohmann::json run_architecture_profiling(const ProfileRequest& request,
                                          const design::Architecture& architecture);

}  // namespace tailsweep::agent
