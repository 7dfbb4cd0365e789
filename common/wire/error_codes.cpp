#include "common/wire/error_codes.h"

#include <array>

namespace tailsweep {
namespace {

struct Entry {
  ErrorCode code;
  std::string_view name;
  unsigned status;
};

constexpr std::array kTable = {
    Entry{ErrorCode::kInvalidJson, "invalid_json", 400},
    Entry{ErrorCode::kBadRequest, "bad_request", 400},
    Entry{ErrorCode::kInvalidResult, "invalid_result", 400},
    Entry{ErrorCode::kMalformedRequest, "malformed_request", 400},
    Entry{ErrorCode::kUnauthorized, "unauthorized", 401},
    Entry{ErrorCode::kNotFound, "not_found", 404},
    Entry{ErrorCode::kUnknownJob, "unknown_job", 404},
    Entry{ErrorCode::kMethodNotAllowed, "method_not_allowed", 405},
    Entry{ErrorCode::kLeaseLost, "lease_lost", 409},
    Entry{ErrorCode::kConflict, "conflict", 409},
    Entry{ErrorCode::kDeviceKindConflict, "device_kind_conflict", 409},
    Entry{ErrorCode::kBodyTooLarge, "body_too_large", 413},
    Entry{ErrorCode::kHeadersTooLarge, "headers_too_large", 431},
    Entry{ErrorCode::kInternal, "internal", 500},
    Entry{ErrorCode::kTooManyConnections, "too_many_connections", 503},
    Entry{ErrorCode::kTooManyQueries, "too_many_queries", 503},
    Entry{ErrorCode::kTooManyBodies, "too_many_bodies", 503},
    Entry{ErrorCode::kDatabaseUnavailable, "database_unavailable", 503},
};

const Entry& entry(ErrorCode code) {
  for (const Entry& e : kTable) {
    if (e.code == code) return e;
  }
  static constexpr Entry kUnlisted{ErrorCode::kInternal, "internal", 500};  // unreachable
  return kUnlisted;
}

}  // namespace

std::string_view to_string(ErrorCode code) { return entry(code).name; }

unsigned http_status(ErrorCode code) { return entry(code).status; }

std::optional<ErrorCode> parse_error_code(std::string_view name) {
  if (name == "stale_lease") return ErrorCode::kLeaseLost;
  for (const Entry& e : kTable) {
    if (e.name == name) return e.code;
  }
  return std::nullopt;
}

}  // namespace tailsweep
