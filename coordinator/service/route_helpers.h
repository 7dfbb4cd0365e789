#pragma once
// Small pieces several route files share: a path's numeric id, job counts
// by state as JSON.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "coordinator/http/request.h"
#include "coordinator/store/store.h"

namespace tailsweep::coordinator {

// The path parameter `name` as an id (>= 1); 404 not_found otherwise.
int64_t path_id(const http::Request& request, const char* name);

// {"waiting": 0, "queued": 2, ...}
nlohmann::json state_counts(const store::StateCounts& counts);

}  // namespace tailsweep::coordinator
