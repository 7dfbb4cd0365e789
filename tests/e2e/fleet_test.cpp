// End to end, with real processes on 127.0.0.1: a coordinator, agents on
// simulated and real (CPU) devices, sweeps, crashes (SIGKILL) of an agent and
// of the coordinator, and bad requests against the running server.
#include <gmock/gmock.h>

#include "fleet_fixture.h"

namespace tailsweep::e2e {
namespace {

using ::testing::HasSubstr;

TEST_F(Fleet, ASweepOverSimulatedAgentsDoesEveryJobExactlyOnce) {
  start_coordinator();
  start_agent("nano", "sim:jetson-nano");
  start_agent("orin-nano", "sim:jetson-orin-nano");
  start_agent("agx", "sim:jetson-agx-orin");
  ASSERT_TRUE(eventually([&] { return devices_registered(3); }, 20s)) << logs();
  json spec = profile_sweep("sims", json::object(), "deit-tiny", "2,64,128,129,197", 1.0);
  spec["workloads"][0]["curves"]["precision"] = 0.05;
  const int64_t sweep = admin("POST", "/v1/sweeps", spec)["sweep_id"].get<int64_t>();
  ASSERT_TRUE(eventually([&] { return sweep_state(sweep) == "done"; }, 60s)) << logs();
  EXPECT_EQ(sql_count("SELECT count(*) FROM jobs WHERE state = 'done'"), 3);
  EXPECT_EQ(sql_count("SELECT count(*) FROM results"), 3);
  EXPECT_EQ(sql_count("SELECT count(*) FROM curve_points"), 15);
  // Every simulated device shows the wave cliff the model puts between 128 and 129 tokens,
  // and is labelled simulated in the database.
  const json steps =
      sql("SELECT d.name, d.simulated, a.median_ms, b.median_ms FROM curve_points a "
          "JOIN curve_points b ON a.job_id = b.job_id AND a.tokens = 128 AND b.tokens = 129 "
          "JOIN devices d ON d.id = a.device_id ORDER BY d.name");
  ASSERT_EQ(steps.size(), 3u);
  for (const json& row : steps) {
    EXPECT_EQ(row[1], 1) << row;
    EXPECT_GT(row[3].get<double>(), row[2].get<double>()) << row;
  }
  // The coordinator found the cliff when the results arrived (step_view): the
  // Nano's (+60%) for sure; on this coarse grid a smaller one may not stand out
  // from the slope, by the rules the report uses. Nothing else is a step.
  const std::string in_sweep = " FROM step_view WHERE sweep_id = " + std::to_string(sweep);
  EXPECT_EQ(sql_count("SELECT count(*)" + in_sweep +
                      " AND device = 'nano' AND tokens_below = 128 AND tokens_above = 129"),
            1);
  EXPECT_EQ(sql_count("SELECT count(*)" + in_sweep + " AND tokens_below <> 128"), 0);
}

TEST_F(Fleet, AJobOfAnAgentKilledMidJobCompletesOnAnotherAfterItsLeaseExpires) {
  start_coordinator();
  ChildProcess& first = start_agent("box", "cpu");
  ASSERT_TRUE(eventually([&] { return devices_registered(1); }, 20s)) << logs();
  // Three points at a precision that is never reached: about 3 x 1.5 s of work.
  const int64_t sweep =
      admin("POST", "/v1/sweeps",
            profile_sweep("crash", json::object(), kTinyModel, "2,9,17", 1.5))["sweep_id"]
          .get<int64_t>();
  ASSERT_TRUE(eventually(
      [&] { return sql_count("SELECT count(*) FROM jobs WHERE state = 'leased'") == 1; }, 20s))
      << logs();
  std::this_thread::sleep_for(500ms);
  first.signal(SIGKILL);
  ASSERT_TRUE(first.wait_for_exit(5s));
  start_agent("box", "cpu");  // the same device, a new agent
  ASSERT_TRUE(eventually([&] { return sweep_state(sweep) == "done"; }, 60s)) << logs();
  EXPECT_EQ(sql_count("SELECT count(*) FROM results"), 1);
  EXPECT_EQ(sql_count("SELECT attempts FROM jobs"), 2);
  EXPECT_GE(sql_count("SELECT count(*) FROM failures WHERE error LIKE '%expired%'"), 1);
  // The result came from the second agent.
  EXPECT_EQ(sql_count("SELECT agent_id FROM results"), 2);
}

TEST_F(Fleet, ACoordinatorKilledMidSweepLosesNoAcceptedResult) {
  // It restarts on the same port: one no port-0 bind can take meanwhile.
  start_coordinator(testing::port_outside_the_ephemeral_range());
  start_agent("box", "cpu");
  start_agent("nano", "sim:jetson-nano");
  ASSERT_TRUE(eventually([&] { return devices_registered(2); }, 20s)) << logs();
  // Six workloads on two devices: twelve profile jobs, the CPU's ~1 s each.
  const int64_t sweep =
      admin("POST", "/v1/sweeps",
            profile_sweep("restart", json::object(), kTinyModel, "2,17", 0.5, 6))["sweep_id"]
          .get<int64_t>();
  ASSERT_TRUE(eventually(
      [&] {
        return sql_count(
                   "SELECT count(*) FROM results r JOIN devices d ON "
                   "d.id = r.device_id WHERE d.name = 'box'") >= 1;
      },
      30s))
      << logs();
  const json before = sql("SELECT job_id FROM results ORDER BY job_id");
  coordinator_->signal(SIGKILL);
  ASSERT_TRUE(coordinator_->wait_for_exit(5s));
  std::this_thread::sleep_for(1s);  // agents see refused connections and back off
  start_coordinator(port_);
  ASSERT_TRUE(eventually([&] { return sweep_state(sweep) == "done"; }, 90s)) << logs();
  EXPECT_EQ(sql_count("SELECT count(*) FROM results"), 12);
  EXPECT_EQ(sql_count("SELECT count(*) FROM jobs WHERE state = 'done'"), 12);
  for (const json& row : before) {
    EXPECT_EQ(sql_count("SELECT count(*) FROM results WHERE job_id = " + row[0].dump()), 1);
  }
}

// A sweep whose job fails: `sweep wait` says how far it got in a log (its
// stderr is a file here, not a terminal), and then why the job failed.
TEST_F(Fleet, SweepWaitLogsProgressAndShowsWhyJobsFailed) {
  start_coordinator();
  start_agent("box", "cpu");
  ASSERT_TRUE(eventually([&] { return devices_registered(1); }, 20s)) << logs();
  // The first workload measures for a second or so; the second cannot load its weights.
  json spec = profile_sweep("broken", json::object(), kTinyModel, "2,17", 0.5, /*workloads=*/2);
  spec["workloads"][1]["weights"] = (dir_ / "no-such-weights.safetensors").string();
  const int64_t sweep = admin("POST", "/v1/sweeps", spec)["sweep_id"].get<int64_t>();
  const testing::CommandResult waited = testing::run_command(
      std::string(TAILSWEEP_BIN) + " sweep wait " + std::to_string(sweep) + " --coordinator " +
      url_ + " --admin-token " + kAdmin + " --log-every 0.2 --timeout 60");
  EXPECT_EQ(waited.exit_code, 1) << waited.out << waited.err;
  EXPECT_THAT(waited.err, HasSubstr("sweep " + std::to_string(sweep) + ": ")) << waited.err;
  EXPECT_THAT(waited.err, HasSubstr("jobs finished")) << waited.err;
  EXPECT_THAT(waited.err, HasSubstr("ended failed")) << waited.err;
  EXPECT_THAT(waited.out, HasSubstr("failed jobs:")) << waited.out;
  EXPECT_THAT(waited.out, HasSubstr("(profile on box, 3 attempts): ")) << waited.out;
  EXPECT_THAT(waited.out, HasSubstr("no-such-weights")) << waited.out;
}

// An idle agent in a 20 s long-poll stops on SIGTERM within seconds and says
// goodbye, so its device is offline at once; a sweep for it says so, and
// retiring the device fails the job that would have waited for it.
TEST_F(Fleet, AnIdleAgentStopsAtOnceAndAnOfflineDeviceIsToldAndCanBeRetired) {
  start_coordinator();
  ChildProcess& agent = start_agent("idle", "sim:jetson-nano", "20");
  const auto state_of_idle = [&] {
    return admin("GET", "/v1/devices")["devices"][0]["state"].get<std::string>();
  };
  ASSERT_TRUE(eventually([&] { return devices_registered(1) && state_of_idle() == "online"; }, 20s))
      << logs();
  std::this_thread::sleep_for(1s);  // inside its long-poll now
  const auto signalled = std::chrono::steady_clock::now();
  agent.signal(SIGTERM);
  ASSERT_TRUE(agent.wait_for_exit(10s)) << logs();
  // Within its 20 s long-poll (it was up to --wait-s before); 8 s leaves a busy CI room.
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 8s) << logs();
  EXPECT_EQ(state_of_idle(), "offline") << logs();

  const json created =
      admin("POST", "/v1/sweeps", profile_sweep("late", json::object(), kTinyModel, "2,17", 0.5));
  EXPECT_EQ(created["offline_devices"], json::array({"idle"}));
  // Its agent's long-poll, still held by the server, takes no job: it is gone.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(sql_count("SELECT count(*) FROM jobs WHERE state = 'leased'"), 0);
  EXPECT_EQ(state_of_idle(), "offline");
  const testing::CommandResult retired =
      testing::run_command(std::string(TAILSWEEP_BIN) + " devices retire idle --coordinator " +
                           url_ + " --admin-token " + kAdmin);
  EXPECT_EQ(retired.exit_code, 0) << retired.out << retired.err;
  EXPECT_THAT(retired.out, HasSubstr("device idle retired")) << retired.out;
  EXPECT_THAT(retired.out, HasSubstr("1 unfinished job(s) of it failed")) << retired.out;
  EXPECT_EQ(state_of_idle(), "retired");
  EXPECT_EQ(sweep_state(created["sweep_id"].get<int64_t>()), "failed");
}

// A wrong --coordinator gets a line that says what to write instead.
TEST_F(Fleet, TheCliSaysWhatToDoWithAWrongCoordinatorUrl) {
  start_coordinator();
  const auto devices = [&](const std::string& url) {
    return testing::run_command(std::string(TAILSWEEP_BIN) + " devices --coordinator " + url +
                                " --admin-token " + kAdmin);
  };
  EXPECT_EQ(devices(url_).exit_code, 0);
  testing::CommandResult result = devices(url_ + "/v1");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("leave out the path ('/v1')")) << result.err;
  result = devices(url_.substr(std::string("http://").size()));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("has no scheme: write " + url_)) << result.err;
  // https against this plain-HTTP coordinator.
  result = devices("https://" + url_.substr(std::string("http://").size()));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("is the coordinator serving plain HTTP?")) << result.err;
}

TEST_F(Fleet, BadRequestsGetTheirDocumentedStatusAndTheServerKeepsServing) {
  start_coordinator(0, {"--max-body-bytes", "4096"});
  const auto code_of = [](const HttpResult& result) {
    return json::parse(result.body)["error"]["code"].get<std::string>();
  };
  const std::string reg = R"({"name": "x", "kind": "cpu", "version": "1", "git_sha": "s"})";
  EXPECT_EQ(call("POST", "/v1/agents/register", reg, "wrong").status, 401);
  EXPECT_EQ(call("POST", "/v1/agents/register", reg, "").status, 401);
  HttpResult bad = call("POST", "/v1/agents/register", "{not json", kEnroll);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(code_of(bad), "invalid_json");
  bad = call("POST", "/v1/agents/register",
             R"({"name": 3, "kind": "cpu", "version": "1", "git_sha": "s"})", kEnroll);
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(json::parse(bad.body)["error"]["message"].get<std::string>(),
              ::testing::HasSubstr("name"));
  bad =
      call("POST", "/v1/agents/register",
           R"({"name": "x", "kind": "cpu", "version": "1", "git_sha": "s", "extra": 1})", kEnroll);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(call("POST", "/v1/sweeps", std::string(10000, ' ')).status, 413);
  EXPECT_EQ(call("POST", "/v1/sweeps", "{}", "not-admin").status, 401);
  EXPECT_EQ(call("GET", "/v1/sweeps/99", "").status, 404);

  // A result for another agent's lease is refused.
  const json x = json::parse(call("POST", "/v1/agents/register", reg, kEnroll).body);
  const json y =
      json::parse(call("POST", "/v1/agents/register",
                       R"({"name": "x", "kind": "cpu", "version": "1", "git_sha": "s"})", kEnroll)
                      .body);
  admin("POST", "/v1/sweeps", profile_sweep("one", json::object(), kTinyModel, "2,17", 0.5));
  const json lease =
      json::parse(call("POST", "/v1/lease", "{}", x["token"].get<std::string>()).body);
  ASSERT_FALSE(lease["job"].is_null());
  const std::string result_path = "/v1/jobs/" + lease["job"]["job_id"].dump() + "/result";
  const json post = {{"lease_id", lease["job"]["lease_id"]}, {"result", {{"points", 1}}}};
  bad = call("POST", result_path, post.dump(), y["token"].get<std::string>());
  EXPECT_EQ(bad.status, 409);
  EXPECT_EQ(code_of(bad), "lease_lost");
  bad = call("POST", result_path, post.dump(),
             x["token"].get<std::string>());  // the right lease, a broken body
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(code_of(bad), "invalid_result");
  EXPECT_EQ(call("POST", "/v1/jobs/12345/heartbeat", R"({"lease_id": "z"})",
                 x["token"].get<std::string>())
                .status,
            409);
  EXPECT_EQ(call("GET", "/healthz", "").status, 200);
  EXPECT_TRUE(coordinator_->running());
}

}  // namespace
}  // namespace tailsweep::e2e
