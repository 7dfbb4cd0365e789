#pragma once
// The result body a simulated agent posts for a profile job: valid for the
// coordinator's strict parser (coordinator/store/result_bodies.cpp), shaped
// by the job's spec (one point per (batch, tokens) of its grid), and filled
// with synthetic numbers. It is load, not measurement, and says so.
#include <nlohmann/json.hpp>

namespace tailsweep::loadgen {

// `spec` is the job's spec as leased (protocol::ProfileJobSpec). Throws
// InputError when it is not a valid profile spec.
nlohmann::json synthetic_profile_result(const nlohmann::json& spec, int samples_per_point);

// The facts a simulated load agent registers with (and reports as `device`).
nlohmann::json loadgen_device_facts();

}  // namespace tailsweep::loadgen
