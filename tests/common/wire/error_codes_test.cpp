#include "common/wire/error_codes.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tailsweep {
namespace {

constexpr ErrorCode kEvery[] = {
    ErrorCode::kInvalidJson,       ErrorCode::kBadRequest,         ErrorCode::kInvalidResult,
    ErrorCode::kMalformedRequest,  ErrorCode::kUnauthorized,       ErrorCode::kNotFound,
    ErrorCode::kUnknownJob,        ErrorCode::kMethodNotAllowed,   ErrorCode::kLeaseLost,
    ErrorCode::kConflict,          ErrorCode::kDeviceKindConflict, ErrorCode::kBodyTooLarge,
    ErrorCode::kHeadersTooLarge,   ErrorCode::kInternal,           ErrorCode::kTooManyConnections,
    ErrorCode::kTooManyQueries,    ErrorCode::kDatabaseUnavailable, ErrorCode::kTooManyBodies};

TEST(ErrorCodes, EachHasOneNameThatReadsBackAndAnErrorStatus) {
  std::set<std::string> names;
  for (const ErrorCode code : kEvery) {
    const std::string name(to_string(code));
    EXPECT_TRUE(names.insert(name).second) << name << " twice";
    EXPECT_EQ(parse_error_code(name), code) << name;
    EXPECT_GE(http_status(code), 400u) << name;
    EXPECT_LE(http_status(code), 599u) << name;
  }
  EXPECT_EQ(http_status(ErrorCode::kLeaseLost), 409u);
  EXPECT_EQ(http_status(ErrorCode::kHeadersTooLarge), 431u);
}

// One condition, one code: the result and failure routes said
// "stale_lease" where the heartbeat said "lease_lost".
TEST(ErrorCodes, TheOldNameOfALostLeaseReadsAsTheNewOne) {
  EXPECT_EQ(parse_error_code("stale_lease"), ErrorCode::kLeaseLost);
  EXPECT_EQ(parse_error_code("no_such_code"), std::nullopt);
}

}  // namespace
}  // namespace tailsweep
