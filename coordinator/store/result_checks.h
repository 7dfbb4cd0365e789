#pragma once
// A result is checked against the job it answers before anything is stored:
// an agent (buggy, old, or holding a stolen token) must not be able to file
// a deit-base curve under a deit-tiny job, points the job never asked for,
// the same point twice, latencies that are not latencies, or a simulated
// device's numbers as real ones. Pure: no SQLite.
#include <string_view>

#include "coordinator/store/result_ingest.h"

namespace tailsweep::store {

// No single forward pass this project times takes an hour; a number past
// it is corrupt, not slow.
inline constexpr double kMaxLatencyMs = 3'600'000.0;

// Throws InputError naming the field ("profile result: points[3].tokens:
// 999999 is not in the job's token grid 2:197:5") when `body` (parsed for
// the job's kind) does not answer the job with this spec, or when the device
// that measured it is simulated and the body does not say so, or the other
// way round.
void check_result_against_job(std::string_view job_spec_json, const AgentResultBody& body,
                              bool device_simulated);

}  // namespace tailsweep::store
