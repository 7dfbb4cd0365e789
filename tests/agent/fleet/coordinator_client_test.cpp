// The coordinator's answers, route by route, mapped to what the agent does
// (agent/fleet/coordinator_client.h). No network: answers are made up.
#include "agent/fleet/coordinator_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tailsweep::agent {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

HttpResult answer(long status, json body) { return {status, body.dump()}; }
json error_body(const std::string& code) { return {{"error", {{"code", code}, {"message", "m"}}}}; }

TEST(CoordinatorOutcomeTest, ResultAnswers) {
  EXPECT_EQ(result_outcome_of(answer(200, {{"outcome", "accepted"}})).outcome,
            ResultOutcome::accepted);
  EXPECT_EQ(result_outcome_of(answer(200, {{"outcome", "duplicate"}})).outcome,
            ResultOutcome::duplicate);
  EXPECT_EQ(result_outcome_of(answer(409, error_body("lease_lost"))).outcome,
            ResultOutcome::stale);
  // What coordinators before the one error table sent for the same thing.
  EXPECT_EQ(result_outcome_of(answer(409, error_body("stale_lease"))).outcome,
            ResultOutcome::stale);
  EXPECT_EQ(result_outcome_of(answer(409, error_body("conflict"))).outcome,
            ResultOutcome::conflict);
  EXPECT_EQ(result_outcome_of(answer(404, error_body("unknown_job"))).outcome,
            ResultOutcome::unknown_job);
  const auto rejected = result_outcome_of(answer(400, error_body("bad_request")));
  EXPECT_EQ(rejected.outcome, ResultOutcome::rejected);
  EXPECT_THAT(rejected.detail, HasSubstr("400 bad_request"));
  EXPECT_EQ(result_outcome_of(answer(413, error_body("body_too_large"))).outcome,
            ResultOutcome::rejected);
  EXPECT_THROW(result_outcome_of(answer(401, error_body("unauthorized"))), Unauthorized);
  EXPECT_THROW(result_outcome_of(answer(503, error_body("unavailable"))), CoordinatorUnavailable);
  EXPECT_THROW(result_outcome_of({502, "<html>bad gateway</html>"}), CoordinatorUnavailable);
  EXPECT_THROW(result_outcome_of(answer(200, {{"outcome", "maybe"}})), UnexpectedAnswer);
  EXPECT_THROW(result_outcome_of({200, "not json"}), UnexpectedAnswer);
}

TEST(CoordinatorOutcomeTest, HeartbeatAndFailureAnswers) {
  EXPECT_EQ(heartbeat_outcome_of(answer(200, json::object())).outcome, HeartbeatOutcome::renewed);
  EXPECT_EQ(heartbeat_outcome_of(answer(409, error_body("lease_lost"))).outcome,
            HeartbeatOutcome::lease_lost);
  EXPECT_EQ(heartbeat_outcome_of(answer(404, error_body("unknown_job"))).outcome,
            HeartbeatOutcome::lease_lost);
  EXPECT_THROW(heartbeat_outcome_of(answer(401, error_body("unauthorized"))), Unauthorized);
  EXPECT_THROW(heartbeat_outcome_of(answer(500, error_body("internal"))), CoordinatorUnavailable);
  EXPECT_THROW(heartbeat_outcome_of(answer(400, error_body("bad_request"))), UnexpectedAnswer);

  EXPECT_EQ(failure_outcome_of(answer(200, {{"outcome", "requeued"}})).outcome,
            FailureOutcome::requeued);
  EXPECT_EQ(failure_outcome_of(answer(200, {{"outcome", "failed"}})).outcome,
            FailureOutcome::failed);
  EXPECT_EQ(failure_outcome_of(answer(409, error_body("lease_lost"))).outcome,
            FailureOutcome::refused);
  EXPECT_EQ(failure_outcome_of(answer(409, error_body("stale_lease"))).outcome,
            FailureOutcome::refused);
  EXPECT_THROW(failure_outcome_of(answer(429, error_body("slow_down"))), CoordinatorUnavailable);
}

}  // namespace
}  // namespace tailsweep::agent
