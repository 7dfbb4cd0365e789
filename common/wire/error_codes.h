#pragma once
// Every error code the coordinator answers with (docs/protocol.md, Errors),
// defined once: the server takes a code's HTTP status from this table, and
// the agent and the CLI branch on the parsed code, never on a string.
#include <optional>
#include <string_view>

namespace tailsweep {

enum class ErrorCode {
  kInvalidJson,           // 400: the body is not strict JSON
  kBadRequest,            // 400: a field missing, unknown, mistyped or out of range
  kInvalidResult,         // 400: a result that does not answer its job
  kMalformedRequest,      // 400: not parseable HTTP
  kUnauthorized,          // 401: no token, or the wrong one for the route
  kNotFound,              // 404: no such route or sweep
  kUnknownJob,            // 404: no such job
  kMethodNotAllowed,      // 405
  kLeaseLost,             // 409: the lease is not the job's any more (expired, cancelled, another agent's)
  kConflict,              // 409: the same lease already delivered a different result
  kDeviceKindConflict,    // 409: the device's name belongs to a device of another kind
  kBodyTooLarge,          // 413
  kHeadersTooLarge,       // 431: headers, or a chunked body's trailer
  kInternal,              // 500: a bug
  kTooManyConnections,    // 503: over the connection cap
  kTooManyQueries,        // 503: too many admin SQL queries waiting
  kTooManyBodies,         // 503: the request bodies being read already fill the server's budget
  kDatabaseUnavailable,   // 503: the database is busy or failing; retry
};

// The code's wire name ("lease_lost") and its HTTP status.
std::string_view to_string(ErrorCode code);
unsigned http_status(ErrorCode code);

// The code a wire name stands for; nullopt for a name this build does not
// know. "stale_lease", which coordinators before this table sent for a lost
// lease on the result and failure routes, reads as kLeaseLost.
std::optional<ErrorCode> parse_error_code(std::string_view name);

}  // namespace tailsweep
