#include "agent/measure/provenance.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tailsweep/build_info.h"

namespace tailsweep::agent {

protocol::BodyProvenance this_build_provenance(std::string tool,
                                               std::chrono::system_clock::time_point started,
                                               const nlohmann::json& device) {
  protocol::BodyProvenance provenance;
  provenance.tool = std::move(tool);
  provenance.version = build_info::kVersion;
  provenance.git_sha = build_info::kGitSha;
  provenance.build_type = build_info::kBuildType;
  provenance.started_at =
      fmt::format("{:%FT%TZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(started)));
  provenance.device_json = device.dump();
  return provenance;
}

}  // namespace tailsweep::agent
