#include "coordinator/service/route_helpers.h"

#include <fmt/format.h>

#include "common/util/parse.h"

namespace tailsweep::coordinator {

int64_t path_id(const http::Request& request, const char* name) {
  const auto value = parse_integer(request.path_params.at(name));
  if (!value || *value < 1) {
    throw http::ApiError(ErrorCode::kNotFound,
                         fmt::format("'{}' is not an id", request.path_params.at(name)));
  }
  return *value;
}

nlohmann::json state_counts(const store::StateCounts& counts) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [state, count] : counts) out[state] = count;
  return out;
}

}  // namespace tailsweep::coordinator
