#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"
#include "store_fixture.h"

namespace tailsweep::store {
namespace {

using ::testing::HasSubstr;

constexpr double kTtlS = 30;

// A minimal eval body: what an eval job's agent posts.
std::string eval_body(double top1 = 0.72) {
  return R"({"model": "deit-tiny", "weights_sha256": null, "dataset": "fashion-mnist",
             "split": "test", "method": "none", "batch": 1, "images": 1000, "top1": )" +
         std::to_string(top1) +
         R"(, "top5": 0.95, "latency": {"median_ms": 3.5}, "device": {"simulated": false}})";
}

// The job that eval_body answers.
PlannedJob eval_job(std::optional<int64_t> device_id) {
  PlannedJob job;
  job.kind = "eval";
  job.device_id = device_id;
  job.spec_json = R"({"model": "deit-tiny", "method": "none", "batch": 1})";
  return job;
}

using JobQueueTest = StoreTest;

TEST_F(JobQueueTest, NewJobsAreQueuedUnlessTheyHaveDependencies) {
  const auto agent = register_agent("cpu-1");
  auto dependant = eval_job(agent.device_id);
  dependant.depends_on = {0};
  const int64_t sweep = store().create_sweep("s", "{}", {eval_job(agent.device_id), dependant}, 1);
  const SweepStatus status = store().sweep_status(sweep);
  EXPECT_EQ(status.state, "running");
  EXPECT_EQ(status.jobs.at("queued"), 1);
  EXPECT_EQ(status.jobs.at("waiting"), 1);
  ASSERT_EQ(status.per_device.size(), 1u);
  EXPECT_EQ(status.per_device[0].device, "cpu-1");
}

TEST_F(JobQueueTest, LeasesByPriorityThenIdAndOnlyForTheAgentsDevice) {
  const auto mine = register_agent("cpu-1");
  const auto other = register_agent("cpu-2");
  store().create_sweep("s", "{}",
                       {profile_job(mine.device_id, 0), profile_job(other.device_id, 9),
                        profile_job(std::nullopt, 5), profile_job(mine.device_id, 5),
                        profile_job(mine.device_id, 0)},
                       1);
  std::vector<int64_t> order;
  while (const auto lease = store().lease_job(mine.agent_id, 10, kTtlS)) {
    order.push_back(lease->job_id);
    EXPECT_EQ(lease->attempt, 1);
    EXPECT_EQ(lease->lease_id.size(), 32u);
    EXPECT_DOUBLE_EQ(lease->expires_at_s, 10 + kTtlS);
  }
  // Priority 5 (job 3 for any device, then job 4), then priority 0 by id;
  // job 2 (priority 9) belongs to cpu-2.
  EXPECT_EQ(order, (std::vector<int64_t>{3, 4, 1, 5}));
  EXPECT_EQ(job_state(2), "queued");
  EXPECT_EQ(store().lease_job(other.agent_id, 10, kTtlS)->job_id, 2);
}

TEST_F(JobQueueTest, ASimulatedDeviceNeverGetsJobsMeantForAnyRealDevice) {
  const auto simulated = register_agent("sim-nano", true);
  const auto real = register_agent("cpu-1");
  store().create_sweep("s", "{}", {profile_job(std::nullopt, 10), profile_job(simulated.device_id)},
                       1);
  EXPECT_TRUE(store().has_queued_work_for(simulated.agent_id));
  const auto lease = store().lease_job(simulated.agent_id, 10, kTtlS);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->job_id, 2);
  EXPECT_FALSE(store().lease_job(simulated.agent_id, 10, kTtlS));
  EXPECT_FALSE(store().has_queued_work_for(simulated.agent_id));
  EXPECT_TRUE(store().has_queued_work_for(real.agent_id));
  EXPECT_EQ(store().lease_job(real.agent_id, 10, kTtlS)->job_id, 1);
}

TEST_F(JobQueueTest, HeartbeatRenewsOnlyTheAgentsOwnLease) {
  const auto agent = register_agent("cpu-1");
  const auto intruder = register_agent("cpu-1");  // a second agent on the same device
  store().create_sweep("s", "{}", {profile_job(agent.device_id)}, 1);
  const auto lease = store().lease_job(agent.agent_id, 10, kTtlS).value();
  EXPECT_TRUE(store().heartbeat(lease.job_id, lease.lease_id, agent.agent_id, 20, kTtlS));
  EXPECT_DOUBLE_EQ(store().job(lease.job_id)->lease_expires_at_s.value(), 20 + kTtlS);
  EXPECT_FALSE(store().heartbeat(lease.job_id, "not-the-lease", agent.agent_id, 21, kTtlS));
  EXPECT_FALSE(store().heartbeat(lease.job_id, lease.lease_id, intruder.agent_id, 21, kTtlS));
  EXPECT_FALSE(store().heartbeat(lease.job_id + 1, lease.lease_id, agent.agent_id, 21, kTtlS));
  EXPECT_DOUBLE_EQ(store().job(lease.job_id)->lease_expires_at_s.value(), 20 + kTtlS);
  // Past its expiry, while nobody else has the job, it is renewed: the same
  // attempt goes on (a partition longer than the TTL costs no rerun) ...
  EXPECT_TRUE(store().heartbeat(lease.job_id, lease.lease_id, agent.agent_id, 20 + kTtlS, kTtlS));
  EXPECT_EQ(store().requeue_expired(20 + 3 * kTtlS), 1);
  EXPECT_EQ(job_state(lease.job_id), "queued");
  EXPECT_TRUE(
      store().heartbeat(lease.job_id, lease.lease_id, agent.agent_id, 20 + 4 * kTtlS, kTtlS));
  EXPECT_EQ(job_state(lease.job_id), "leased");
  EXPECT_EQ(store().job(lease.job_id)->attempts, 1);
  // ... but not once another lease was given.
  EXPECT_EQ(store().requeue_expired(20 + 6 * kTtlS), 1);
  const auto other = store().lease_job(intruder.agent_id, 20 + 6 * kTtlS, kTtlS).value();
  EXPECT_EQ(other.job_id, lease.job_id);
  EXPECT_FALSE(
      store().heartbeat(lease.job_id, lease.lease_id, agent.agent_id, 20 + 6 * kTtlS, kTtlS));
  EXPECT_TRUE(
      store().heartbeat(other.job_id, other.lease_id, intruder.agent_id, 20 + 6 * kTtlS, kTtlS));
}

TEST_F(JobQueueTest, ExpiredLeasesAreRequeuedThenFailAtMaxAttempts) {
  const auto agent = register_agent("cpu-1");
  const int64_t sweep =
      store().create_sweep("s", "{}", {profile_job(agent.device_id, 0, /*max_attempts=*/2)}, 1);
  const auto first = store().lease_job(agent.agent_id, 10, kTtlS).value();
  EXPECT_EQ(store().requeue_expired(10 + kTtlS - 1), 0);
  EXPECT_EQ(store().requeue_expired(10 + kTtlS), 1);
  JobRow job = store().job(first.job_id).value();
  EXPECT_EQ(job.state, "queued");
  EXPECT_EQ(job.attempts, 1);
  EXPECT_THAT(job.last_error.value_or(""), HasSubstr("lease expired"));

  const auto second = store().lease_job(agent.agent_id, 100, kTtlS).value();
  EXPECT_EQ(second.job_id, first.job_id);
  EXPECT_EQ(second.attempt, 2);
  EXPECT_NE(second.lease_id, first.lease_id);
  // lease_job itself reclaims expired leases before it looks for work.
  EXPECT_FALSE(store().lease_job(agent.agent_id, 200, kTtlS));
  job = store().job(first.job_id).value();
  EXPECT_EQ(job.state, "failed");
  EXPECT_EQ(job.attempts, 2);
  EXPECT_THAT(job.last_error.value_or(""), HasSubstr("lease expired"));
  EXPECT_EQ(count("SELECT count(*) FROM failures WHERE job_id = 1"), 2);
  EXPECT_EQ(store().sweep_status(sweep).state, "failed");
}

TEST_F(JobQueueTest, AResultForAStaleLeaseIsRefused) {
  const auto agent = register_agent("cpu-1");
  store().create_sweep("s", "{}", {eval_job(agent.device_id)}, 1);
  const auto first = store().lease_job(agent.agent_id, 10, kTtlS).value();
  store().requeue_expired(10 + kTtlS);
  const auto second = store().lease_job(agent.agent_id, 50, kTtlS).value();
  EXPECT_EQ(store().submit_result(first.job_id, first.lease_id, agent.agent_id, eval_body(), 51),
            SubmitOutcome::stale_lease);
  EXPECT_EQ(count("SELECT count(*) FROM results"), 0);
  EXPECT_EQ(store().submit_result(99, second.lease_id, agent.agent_id, eval_body(), 51),
            SubmitOutcome::unknown_job);
  EXPECT_EQ(store().submit_result(second.job_id, second.lease_id, agent.agent_id, eval_body(), 52),
            SubmitOutcome::accepted);
  // The old lease stays stale after the job is done.
  EXPECT_EQ(store().submit_result(first.job_id, first.lease_id, agent.agent_id, eval_body(), 53),
            SubmitOutcome::stale_lease);
}

TEST_F(JobQueueTest, AnExpiredLeaseNobodyElseTookMayStillDeliver) {
  const auto agent = register_agent("cpu-1");
  const auto other = register_agent("cpu-1");
  const int64_t sweep = store().create_sweep("s", "{}", {eval_job(agent.device_id)}, 1);
  const auto lease = store().lease_job(agent.agent_id, 10, kTtlS).value();
  EXPECT_EQ(store().requeue_expired(10 + kTtlS), 1);  // queued again, attempt 1 spent
  EXPECT_EQ(store().submit_result(lease.job_id, lease.lease_id, other.agent_id, eval_body(),
                                  10 + 2 * kTtlS),
            SubmitOutcome::stale_lease);  // not this agent's lease
  EXPECT_EQ(store().submit_result(lease.job_id, lease.lease_id, agent.agent_id, eval_body(),
                                  10 + 2 * kTtlS),
            SubmitOutcome::accepted);
  EXPECT_EQ(job_state(lease.job_id), "done");
  EXPECT_EQ(store().sweep_status(sweep).state, "done");
  EXPECT_EQ(count("SELECT count(*) FROM failures"), 1);  // the expiry stays on record
  EXPECT_FALSE(store().lease_job(other.agent_id, 10 + 3 * kTtlS, kTtlS));
}

// A failure report gives the lease up: a heartbeat of it that arrives
// later (delayed on the network) does not bring the job back.
TEST_F(JobQueueTest, ALeaseGivenUpWithAFailureCannotBeTakenBack) {
  const auto agent = register_agent("cpu-1");
  store().create_sweep("s", "{}", {eval_job(agent.device_id)}, 1);
  const auto lease = store().lease_job(agent.agent_id, 10, kTtlS).value();
  EXPECT_EQ(store().fail_job(lease.job_id, lease.lease_id, agent.agent_id, "out of memory", 11),
            FailOutcome::requeued);
  EXPECT_FALSE(store().heartbeat(lease.job_id, lease.lease_id, agent.agent_id, 12, kTtlS));
  EXPECT_EQ(job_state(lease.job_id), "queued");
  EXPECT_EQ(store().submit_result(lease.job_id, lease.lease_id, agent.agent_id, eval_body(), 13),
            SubmitOutcome::stale_lease);
}

TEST_F(JobQueueTest, AnExpiredLeaseNotYetReclaimedMayStillDeliver) {
  const auto agent = register_agent("cpu-1");
  store().create_sweep("s", "{}", {eval_job(agent.device_id)}, 1);
  const auto lease = store().lease_job(agent.agent_id, 10, kTtlS).value();
  EXPECT_EQ(store().submit_result(lease.job_id, lease.lease_id, agent.agent_id, eval_body(),
                                  10 + 2 * kTtlS),
            SubmitOutcome::accepted);
}

TEST_F(JobQueueTest, ARepeatedResultIsStoredOnce) {
  const auto agent = register_agent("cpu-1");
  const int64_t sweep = store().create_sweep("s", "{}", {eval_job(agent.device_id)}, 1);
  const auto lease = store().lease_job(agent.agent_id, 10, kTtlS).value();
  EXPECT_EQ(store().submit_result(lease.job_id, lease.lease_id, agent.agent_id, eval_body(), 11),
            SubmitOutcome::accepted);
  EXPECT_EQ(store().submit_result(lease.job_id, lease.lease_id, agent.agent_id, eval_body(), 12),
            SubmitOutcome::duplicate);
  EXPECT_EQ(store().submit_result(lease.job_id, lease.lease_id, agent.agent_id, eval_body(0.5), 13),
            SubmitOutcome::conflict);
  EXPECT_EQ(count("SELECT count(*) FROM results"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM evaluations"), 1);
  EXPECT_EQ(job_state(lease.job_id), "done");
  EXPECT_EQ(store().sweep_status(sweep).state, "done");
}

TEST_F(JobQueueTest, DependantsQueueWhenAllTheirDependenciesAreDone) {
  const auto agent = register_agent("cpu-1");
  auto last = eval_job(agent.device_id);
  last.depends_on = {0, 1};
  const int64_t sweep = store().create_sweep(
      "s", "{}", {eval_job(agent.device_id), eval_job(agent.device_id), last}, 1);
  const auto first = store().lease_job(agent.agent_id, 10, kTtlS).value();
  const auto second = store().lease_job(agent.agent_id, 10, kTtlS).value();
  EXPECT_FALSE(store().lease_job(agent.agent_id, 10, kTtlS));  // job 3 waits
  store().submit_result(first.job_id, first.lease_id, agent.agent_id, eval_body(), 11);
  EXPECT_EQ(job_state(3), "waiting");
  store().submit_result(second.job_id, second.lease_id, agent.agent_id, eval_body(), 12);
  EXPECT_EQ(job_state(3), "queued");
  const auto third = store().lease_job(agent.agent_id, 13, kTtlS).value();
  EXPECT_EQ(third.job_id, 3);
  EXPECT_EQ(store().sweep_status(sweep).state, "running");
  store().submit_result(third.job_id, third.lease_id, agent.agent_id, eval_body(), 14);
  const SweepStatus status = store().sweep_status(sweep);
  EXPECT_EQ(status.state, "done");
  EXPECT_EQ(status.jobs.at("done"), 3);
  EXPECT_DOUBLE_EQ(status.finished_at_s.value(), 14);
}

TEST_F(JobQueueTest, AFailureIsRetriedThenFailsItsDependantsTransitively) {
  const auto agent = register_agent("cpu-1");
  auto middle = eval_job(agent.device_id);
  middle.depends_on = {0};
  auto last = eval_job(agent.device_id);
  last.depends_on = {1};
  auto root = eval_job(agent.device_id);
  root.max_attempts = 2;
  const int64_t sweep = store().create_sweep("s", "{}", {root, middle, last}, 1);

  auto lease = store().lease_job(agent.agent_id, 10, kTtlS).value();
  EXPECT_EQ(store().fail_job(lease.job_id, "wrong", agent.agent_id, "x", 11),
            FailOutcome::stale_lease);
  EXPECT_EQ(store().fail_job(lease.job_id, lease.lease_id, agent.agent_id, "out of memory", 11),
            FailOutcome::requeued);
  EXPECT_EQ(job_state(1), "queued");
  lease = store().lease_job(agent.agent_id, 12, kTtlS).value();
  EXPECT_EQ(lease.attempt, 2);
  EXPECT_EQ(store().fail_job(lease.job_id, lease.lease_id, agent.agent_id, "out of memory", 13),
            FailOutcome::failed);
  const JobRow failed = store().job(1).value();
  EXPECT_EQ(failed.state, "failed");
  EXPECT_EQ(failed.last_error, "out of memory");
  EXPECT_EQ(job_state(2), "failed");
  EXPECT_THAT(store().job(2)->last_error.value_or(""), HasSubstr("dependency job 1 failed"));
  EXPECT_EQ(job_state(3), "failed");
  EXPECT_THAT(store().job(3)->last_error.value_or(""), HasSubstr("dependency job 2 failed"));
  EXPECT_EQ(count("SELECT count(*) FROM failures"), 2);
  const SweepStatus status = store().sweep_status(sweep);
  EXPECT_EQ(status.state, "failed");
  // Each failed job with its error, for `sweep status` to show.
  ASSERT_EQ(status.failures.size(), 3u);
  EXPECT_EQ(status.failures[0].job_id, 1);
  EXPECT_EQ(status.failures[0].kind, "eval");
  EXPECT_EQ(status.failures[0].device, "cpu-1");
  EXPECT_EQ(status.failures[0].attempts, 2);
  EXPECT_EQ(status.failures[0].error, "out of memory");
  EXPECT_THAT(status.failures[2].error, HasSubstr("dependency job 2 failed"));
}

TEST_F(JobQueueTest, JobsAddedLaterDependOnStoredJobs) {
  const auto agent = register_agent("cpu-1");
  const int64_t sweep = store().create_sweep("s", "{}", {eval_job(agent.device_id)}, 1);
  const auto lease = store().lease_job(agent.agent_id, 10, kTtlS).value();
  store().submit_result(lease.job_id, lease.lease_id, agent.agent_id, eval_body(), 11);
  EXPECT_EQ(store().sweep_status(sweep).state, "done");

  PlannedJob schedule;
  schedule.kind = "schedule";
  schedule.runner = "coordinator";
  schedule.depends_on_job_ids = {lease.job_id};
  auto follow_up = eval_job(agent.device_id);
  follow_up.depends_on = {0};
  const auto ids = store().add_jobs(sweep, {schedule, follow_up}, 20);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(job_state(ids[0]), "queued");  // its only dependency is done
  EXPECT_EQ(job_state(ids[1]), "waiting");
  EXPECT_EQ(store().sweep_status(sweep).state, "running");
  store().set_job_spec(ids[1], R"({"method": "pomt:58"})", 21);
  EXPECT_EQ(store().job(ids[1])->spec_json, R"({"method": "pomt:58"})");
  EXPECT_THROW(store().set_job_spec(lease.job_id, "{}", 21), InputError);  // done already
}

TEST_F(JobQueueTest, RefusesBadPlans) {
  const auto agent = register_agent("cpu-1");
  auto forward = eval_job(agent.device_id);
  forward.depends_on = {1};
  EXPECT_THROW(store().create_sweep("s", "{}", {forward, eval_job(agent.device_id)}, 1),
               InputError);
  PlannedJob unknown_kind = eval_job(agent.device_id);
  unknown_kind.kind = "train";
  EXPECT_THROW(store().create_sweep("s", "{}", {unknown_kind}, 1), InputError);
  PlannedJob wrong_runner = eval_job(agent.device_id);
  wrong_runner.runner = "coordinator";
  EXPECT_THROW(store().create_sweep("s", "{}", {wrong_runner}, 1), InputError);
  EXPECT_THROW(store().create_sweep("s", "{}", {eval_job(12345)}, 1), InputError);
  EXPECT_THROW(store().create_sweep("s", "not json", {}, 1), InputError);
  EXPECT_EQ(count("SELECT count(*) FROM sweeps"), 0);  // each refusal rolled back
}

TEST_F(JobQueueTest, CancellingASweepCancelsItsUnfinishedJobsAndStalesLeases) {
  const auto agent = register_agent("cpu-1");
  auto waiting = eval_job(agent.device_id);
  waiting.depends_on = {0};
  const int64_t sweep = store().create_sweep(
      "s", "{}", {eval_job(agent.device_id), waiting, eval_job(agent.device_id)}, 1);
  const auto lease = store().lease_job(agent.agent_id, 10, kTtlS).value();
  store().cancel_sweep(sweep, 11);
  const SweepStatus status = store().sweep_status(sweep);
  EXPECT_EQ(status.state, "cancelled");
  EXPECT_EQ(status.jobs.at("cancelled"), 3);
  EXPECT_EQ(store().submit_result(lease.job_id, lease.lease_id, agent.agent_id, eval_body(), 12),
            SubmitOutcome::stale_lease);
  EXPECT_FALSE(store().heartbeat(lease.job_id, lease.lease_id, agent.agent_id, 12, kTtlS));
  EXPECT_FALSE(store().lease_job(agent.agent_id, 12, kTtlS));
  EXPECT_THROW(store().cancel_sweep(999, 12), InputError);
  EXPECT_THROW(store().add_jobs(sweep, {eval_job(agent.device_id)}, 13), InputError);
}

TEST_F(JobQueueTest, CountsForMetrics) {
  const auto agent = register_agent("cpu-1");
  register_agent("sim-nano", true);
  store().create_sweep("s", "{}", {profile_job(agent.device_id), profile_job(agent.device_id)}, 1);
  store().lease_job(agent.agent_id, 10, kTtlS);
  const QueueCounts counts = store().queue_counts();
  EXPECT_EQ(counts.jobs.at("queued"), 1);
  EXPECT_EQ(counts.jobs.at("leased"), 1);
  EXPECT_EQ(counts.jobs.at("failed"), 0);
  EXPECT_EQ(counts.active_leases, 1);
  EXPECT_EQ(counts.agents, 2);
  EXPECT_EQ(counts.devices, 2);
}

TEST_F(JobQueueTest, ManyLeasesInARowEachClaimADifferentJob) {
  const auto agent = register_agent("cpu-1");
  constexpr int kJobs = 2000;
  std::vector<PlannedJob> jobs(kJobs, profile_job(agent.device_id));
  store().create_sweep("s", "{}", jobs, 1);
  std::set<int64_t> claimed;
  while (const auto lease = store().lease_job(agent.agent_id, 10, kTtlS)) {
    claimed.insert(lease->job_id);
  }
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(store().queue_counts().jobs.at("leased"), kJobs);
}

}  // namespace
}  // namespace tailsweep::store
