#pragma once
// The provenance of a result document this build writes.
#include <chrono>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/wire/result_document.h"

namespace tailsweep::agent {

// The tool, this build's version, git SHA and build type, the start time in
// UTC and the device facts; the caller sets elapsed_s when the work ends.
protocol::BodyProvenance this_build_provenance(std::string tool,
                                               std::chrono::system_clock::time_point started,
                                               const nlohmann::json& device);

}  // namespace tailsweep::agent
