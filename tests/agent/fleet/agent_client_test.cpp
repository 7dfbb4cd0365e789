// `tailsweep-agent run` against a scripted fake coordinator on loopback:
// the real executable registers, leases, heartbeats, keeps results in its
// outbox and posts them; the fake records every call and answers as each
// test scripts it (503s, 401s, stale leases). No timing assertions: tests
// wait for things to happen, never for how fast.
#include <signal.h>

#include <deque>
#include <fstream>
#include <future>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../coordinator/http/test_server.h"
#include "../../support/free_port.h"
#include "../../support/run_command.h"
#include "../../support/temp_dir.h"
#include "agent/fleet/coordinator_client.h"
#include "agent/fleet/result_outbox.h"
#include "common/wire/protocol.h"
#include "coordinator/http/router.h"

namespace tailsweep::agent {
namespace {

using nlohmann::json;
using tailsweep::testing::CommandResult;
using tailsweep::testing::eventually;
using tailsweep::testing::run_command;
using tailsweep::testing::shell_quote;
using ::testing::EndsWith;
using ::testing::HasSubstr;

constexpr const char* kEnrollToken = "enroll-secret";
constexpr const char* kModel = "custom:dim=32,depth=2,heads=2,patch=8,image=32,classes=5";

json profile_spec() {
  return {{"model", kModel},   {"tokens", "2,9,17"}, {"batches", {1, 2}},
          {"time_cap_s", 0.3}, {"warmup_s", 0.05},   {"seed", 3}};
}

protocol::JobAssignment job(int64_t id, std::string kind, json spec) {
  protocol::JobAssignment assignment;
  assignment.job_id = id;
  assignment.lease_id = "lease-" + std::to_string(id);
  assignment.kind = std::move(kind);
  assignment.spec = std::move(spec);
  assignment.expires_at_s = 1e9;
  return assignment;
}

// One recorded call: route ("register", "lease", "heartbeat", "result",
// "failure"), job id from the path (0 if none), bearer token, body.
struct Call {
  std::string route;
  int64_t job_id = 0;
  std::string token;
  json body;
};

class FakeCoordinator {
 public:
  explicit FakeCoordinator(uint16_t port = 0) : server_(make_router(), options_on(port)) {}

  std::string url() const { return server_.url(); }
  uint16_t port() const { return server_.port(); }

  // ---- scripting ----
  void queue_job(protocol::JobAssignment assignment) {
    const std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(assignment));
  }
  // The next result posts get these answers before the default "accepted".
  void answer_results_with(unsigned status, json body) {
    const std::lock_guard lock(mutex_);
    result_answers_.push_back({status, std::move(body)});
  }
  // The coordinator "loses its database" after the next registration: the
  // first call with the new token gets 401.
  void forget_token_after_registering() {
    const std::lock_guard lock(mutex_);
    forget_after_register_ = true;
  }
  void answer_heartbeats_with_lease_lost() {
    const std::lock_guard lock(mutex_);
    lease_lost_ = true;
  }
  // The next lease is answered with this text as it is (a hostile or broken
  // coordinator), before the queued jobs.
  void answer_next_lease_with(std::string raw_body) {
    const std::lock_guard lock(mutex_);
    raw_lease_answers_.push_back(std::move(raw_body));
  }
  void set_heartbeat_interval_s(double seconds) {
    const std::lock_guard lock(mutex_);
    heartbeat_interval_s_ = seconds;
  }

  // ---- observations ----
  std::vector<Call> calls(const std::string& route = "") const {
    const std::lock_guard lock(mutex_);
    std::vector<Call> matching;
    for (const Call& call : calls_) {
      if (route.empty() || call.route == route) matching.push_back(call);
    }
    return matching;
  }
  std::vector<std::string> routes() const {
    std::vector<std::string> names;
    for (const Call& call : calls()) names.push_back(call.route);
    return names;
  }

 private:
  static http::ServerOptions options_on(uint16_t port) {
    http::ServerOptions options;
    options.port = port;
    return options;
  }

  static http::Response error(ErrorCode code) {
    return http::error_response(code, "scripted by the test");
  }

  // Records the call; 401 unless the token is the current agent token.
  std::optional<http::Response> record_agent_call(const std::string& route,
                                                  const http::Request& request) {
    const std::lock_guard lock(mutex_);
    Call call{route, 0, request.bearer_token, json::parse(request.body)};
    if (auto id = request.path_params.find("id"); id != request.path_params.end()) {
      call.job_id = std::stoll(id->second);
    }
    calls_.push_back(call);
    if (request.bearer_token != valid_token_) return error(ErrorCode::kUnauthorized);
    return std::nullopt;
  }

  http::Router make_router() {
    http::Router router;
    router.add_sync("POST", "/v1/agents/register", [this](const http::Request& request) {
      const std::lock_guard lock(mutex_);
      calls_.push_back({"register", 0, request.bearer_token, json::parse(request.body)});
      if (request.bearer_token != kEnrollToken) return error(ErrorCode::kUnauthorized);
      protocol::parse_register_request(json::parse(request.body));  // strict: 400 if malformed
      ++registrations_;
      protocol::RegisterResponse response;
      response.agent_id = registrations_;
      response.device_id = 1;
      response.token = "agent-token-" + std::to_string(registrations_);
      response.lease_ttl_s = 30;
      response.heartbeat_interval_s = heartbeat_interval_s_;
      valid_token_ = forget_after_register_ ? "" : response.token;
      forget_after_register_ = false;
      return http::json_response(201, protocol::to_json(response));
    });
    router.add_sync("POST", "/v1/lease", [this](const http::Request& request) {
      if (auto refused = record_agent_call("lease", request)) return *refused;
      const std::lock_guard lock(mutex_);
      if (!raw_lease_answers_.empty()) {
        http::Response raw;
        raw.body = std::move(raw_lease_answers_.front());
        raw_lease_answers_.pop_front();
        return raw;
      }
      protocol::LeaseResponse response;
      if (!jobs_.empty()) {
        response.job = jobs_.front();
        jobs_.pop_front();
      }
      return http::json_response(200, protocol::to_json(response));
    });
    router.add_sync("POST", "/v1/jobs/{id}/heartbeat", [this](const http::Request& request) {
      if (auto refused = record_agent_call("heartbeat", request)) return *refused;
      const std::lock_guard lock(mutex_);
      if (lease_lost_) return error(ErrorCode::kLeaseLost);
      return http::json_response(200, {{"expires_at_s", 1e9}});
    });
    router.add_sync("POST", "/v1/jobs/{id}/result", [this](const http::Request& request) {
      if (auto refused = record_agent_call("result", request)) return *refused;
      const std::lock_guard lock(mutex_);
      if (!result_answers_.empty()) {
        auto [status, body] = result_answers_.front();
        result_answers_.pop_front();
        return http::json_response(status, body);
      }
      return http::json_response(200, {{"outcome", "accepted"}});
    });
    router.add_sync("POST", "/v1/jobs/{id}/failure", [this](const http::Request& request) {
      if (auto refused = record_agent_call("failure", request)) return *refused;
      return http::json_response(200, {{"outcome", "requeued"}});
    });
    return router;
  }

  mutable std::mutex mutex_;
  std::deque<protocol::JobAssignment> jobs_;
  std::deque<std::pair<unsigned, json>> result_answers_;
  std::deque<std::string> raw_lease_answers_;
  std::vector<Call> calls_;
  std::string valid_token_;
  int64_t registrations_ = 0;
  bool forget_after_register_ = false;
  bool lease_lost_ = false;
  double heartbeat_interval_s_ = 0.05;
  tailsweep::testing::RunningServer server_;  // last: its handlers use every field above
};

class AgentRunTest : public ::testing::Test {
 protected:
  void SetUp() override { std::ofstream(scratch_ / "enroll.token") << kEnrollToken << "\n"; }

  std::string command_line(const std::string& extra) const {
    return std::string(TAILSWEEP_AGENT_BIN) + " run --coordinator " + coordinator_.url() +
           " --enroll-token-file " + shell_quote((scratch_ / "enroll.token").string()) +
           " --state-dir " + shell_quote(state_dir().string()) + " --wait-s 1 " + extra;
  }
  CommandResult agent(const std::string& extra) const { return run_command(command_line(extra)); }

  std::filesystem::path state_dir() const { return scratch_ / "state"; }
  std::filesystem::path outbox_dir() const { return state_dir() / "outbox"; }
  std::size_t outbox_files() const {
    if (!std::filesystem::exists(outbox_dir())) return 0;
    std::size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(outbox_dir())) {
      count += entry.is_regular_file() ? 1 : 0;
    }
    return count;
  }

  tailsweep::testing::TempDir scratch_{"tailsweep-agent-run"};
  FakeCoordinator coordinator_;
};

TEST_F(AgentRunTest, RegistersLeasesAndPostsTheResultWithItsLease) {
  coordinator_.queue_job(job(5, "profile", profile_spec()));
  const CommandResult run = agent("--device sim:jetson-nano --tags lab,nano --max-jobs 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;

  const std::vector<Call> registrations = coordinator_.calls("register");
  ASSERT_EQ(registrations.size(), 1u);
  EXPECT_EQ(registrations[0].token, kEnrollToken);
  const json& facts = registrations[0].body["facts"];
  EXPECT_EQ(registrations[0].body["kind"], "sim");
  EXPECT_THAT(registrations[0].body["name"].get<std::string>(), EndsWith("-sim-jetson-nano"));
  EXPECT_EQ(registrations[0].body["tags"], json({"lab", "nano"}));
  EXPECT_EQ(facts["simulated"], true);
  EXPECT_EQ(facts["gpu"]["name"], "jetson-nano");

  const std::vector<Call> results = coordinator_.calls("result");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].job_id, 5);
  EXPECT_EQ(results[0].token, "agent-token-1");
  EXPECT_EQ(results[0].body["lease_id"], "lease-5");
  EXPECT_EQ(results[0].body["result"]["device"]["simulated"], true);
  EXPECT_EQ(results[0].body["result"]["points"].size(), 6u);  // 2 batches x 3 token counts
  EXPECT_EQ(outbox_files(), 0u);
  EXPECT_THAT(run.err, HasSubstr("registered as agent 1"));
  EXPECT_THAT(run.err, HasSubstr("leased job 5 (profile, attempt 1)"));
  EXPECT_THAT(run.err, HasSubstr("job 5: posted: accepted"));
  EXPECT_THAT(run.err, ::testing::Not(HasSubstr(kEnrollToken)));
  EXPECT_THAT(run.err, ::testing::Not(HasSubstr("agent-token-1")));
}

TEST_F(AgentRunTest, HeartbeatsKeepTheLeaseWhileARealJobRuns) {
  json spec = profile_spec();
  spec["batches"] = {1};
  coordinator_.queue_job(job(8, "profile", spec));
  const CommandResult run = agent("--device cpu --threads 1 --max-jobs 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;

  const std::vector<Call> heartbeats = coordinator_.calls("heartbeat");
  ASSERT_GE(heartbeats.size(), 1u) << run.err;
  for (const Call& beat : heartbeats) {
    EXPECT_EQ(beat.job_id, 8);
    EXPECT_EQ(beat.body["lease_id"], "lease-8");
    EXPECT_EQ(beat.token, "agent-token-1");
  }
  ASSERT_EQ(coordinator_.calls("result").size(), 1u);
  EXPECT_EQ(coordinator_.calls("result")[0].body["result"]["device"]["kind"], "cpu");
  EXPECT_EQ(coordinator_.calls("register")[0].body["kind"], "cpu");
}

TEST_F(AgentRunTest, AResultRefusedWith503IsPostedAgainAndThenLeavesTheOutbox) {
  coordinator_.queue_job(job(6, "profile", profile_spec()));
  coordinator_.answer_results_with(503,
                                   {{"error", {{"code", "unavailable"}, {"message", "busy"}}}});
  coordinator_.answer_results_with(503,
                                   {{"error", {{"code", "unavailable"}, {"message", "busy"}}}});
  const CommandResult run = agent("--device sim:jetson-orin-nano --max-jobs 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;

  const std::vector<Call> results = coordinator_.calls("result");
  ASSERT_EQ(results.size(), 3u);
  for (const Call& post : results) EXPECT_EQ(post.body["lease_id"], "lease-6");
  EXPECT_EQ(results[0].body, results[2].body);  // the same result each time
  EXPECT_THAT(run.err, HasSubstr("job 6: post result: retrying in"));
  EXPECT_THAT(run.err, HasSubstr("503 unavailable: busy"));
  EXPECT_EQ(outbox_files(), 0u);
}

TEST_F(AgentRunTest, AResultLeftByAnEarlierRunIsPostedAtStartUp) {
  {
    ResultOutbox outbox(outbox_dir());
    outbox.put(42, "old-lease", {{"points", json::array()}, {"from", "before the restart"}});
  }
  ASSERT_EQ(outbox_files(), 1u);
  const CommandResult run = agent("--device sim:jetson-nano --exit-when-idle 0.2");
  ASSERT_EQ(run.exit_code, 0) << run.err;

  const std::vector<Call> results = coordinator_.calls("result");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].job_id, 42);
  EXPECT_EQ(results[0].body["lease_id"], "old-lease");
  EXPECT_EQ(results[0].body["result"]["from"], "before the restart");
  // Posted before the agent asked for new work.
  const std::vector<std::string> routes = coordinator_.routes();
  ASSERT_GE(routes.size(), 3u);
  EXPECT_EQ(routes[0], "register");
  EXPECT_EQ(routes[1], "result");
  EXPECT_EQ(outbox_files(), 0u);
  EXPECT_THAT(run.err, HasSubstr("--exit-when-idle"));
}

// A result file of 70,000 nested objects once crashed the agent at every
// start (stack overflow) and never left the outbox.
TEST_F(AgentRunTest, ADeeplyNestedOutboxFileIsSetAsideAndTheAgentGoesOn) {
  std::filesystem::create_directories(outbox_dir());
  std::string nested = R"({"job_id": 77, "lease_id": "x", "result": )";
  for (int i = 0; i < 70'000; ++i) nested += R"({"a":)";
  nested += "1" + std::string(70'000, '}') + "}";
  std::ofstream(outbox_dir() / "job-77-x.json") << nested;
  coordinator_.queue_job(job(5, "profile", profile_spec()));
  const CommandResult run = agent("--device sim:jetson-nano --max-jobs 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("is not a pending result"));
  EXPECT_THAT(run.err, HasSubstr("nested deeper than 64"));
  EXPECT_TRUE(std::filesystem::exists(outbox_dir() / "rejected" / "job-77-x.json"));
  EXPECT_EQ(coordinator_.calls("result").size(), 1u);  // the new job's, not the file's
}

// Any coordinator reached over plain HTTP could crash every agent with a
// lease whose spec is nested 100,000 deep.
TEST_F(AgentRunTest, ADeeplyNestedLeaseAnswerIsRefusedAndTheAgentAsksAgain) {
  std::string nested = R"({"job": {"job_id": 3, "lease_id": "l", "kind": "profile", "spec": )";
  for (int i = 0; i < 100'000; ++i) nested += "[";
  nested += std::string(100'000, ']') + R"(, "attempt": 1, "expires_at_s": 1e9}})";
  coordinator_.answer_next_lease_with(nested);
  coordinator_.answer_next_lease_with(R"({"job": null, "job": null})");  // duplicate keys
  coordinator_.queue_job(job(5, "profile", profile_spec()));
  const CommandResult run = agent("--device sim:jetson-nano --max-jobs 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("nested deeper than 64"));
  EXPECT_THAT(run.err, HasSubstr("duplicate key \"job\""));
  ASSERT_EQ(coordinator_.calls("result").size(), 1u);
  EXPECT_EQ(coordinator_.calls("result")[0].job_id, 5);
}

TEST_F(AgentRunTest, AStaleResultIsDroppedNotPostedAgain) {
  coordinator_.queue_job(job(7, "profile", profile_spec()));
  coordinator_.answer_results_with(
      409, {{"error", {{"code", "lease_lost"}, {"message", "the lease expired"}}}});
  const CommandResult run = agent("--device sim:jetson-nano --max-jobs 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(coordinator_.calls("result").size(), 1u);
  EXPECT_EQ(outbox_files(), 0u);
  EXPECT_THAT(run.err, HasSubstr("job 7: result refused (stale): dropped"));
}

TEST_F(AgentRunTest, AnUnknownTokenLeadsToRegisteringAgain) {
  coordinator_.forget_token_after_registering();
  coordinator_.queue_job(job(9, "profile", profile_spec()));
  const CommandResult run = agent("--device sim:jetson-nano --max-jobs 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;

  EXPECT_EQ(coordinator_.calls("register").size(), 2u);
  const std::vector<Call> results = coordinator_.calls("result");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].token, "agent-token-2");
  EXPECT_THAT(run.err, HasSubstr("registering again"));
}

TEST_F(AgentRunTest, AnEvalJobOnASimulatedDeviceIsReportedAsAFailure) {
  coordinator_.queue_job(job(11, "eval", {{"model", kModel}, {"method", "none"}}));
  const CommandResult run = agent("--device sim:jetson-nano --max-jobs 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;

  EXPECT_TRUE(coordinator_.calls("result").empty());
  const std::vector<Call> failures = coordinator_.calls("failure");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].job_id, 11);
  EXPECT_EQ(failures[0].body["lease_id"], "lease-11");
  EXPECT_THAT(failures[0].body["error"].get<std::string>(),
              HasSubstr("accuracy never comes from a simulated device"));
  EXPECT_THAT(run.err, HasSubstr("job 11: failure reported: requeued"));
}

// Before, the agent measured to the end (here: 3 points of up to 60 s each)
// and posted a result the coordinator refused. Now the job stops at its
// next sample, and nothing is posted: not the result, not a failure.
TEST_F(AgentRunTest, ALostLeaseStopsTheJobAndNothingIsPosted) {
  json spec = profile_spec();
  spec["batches"] = {1};
  spec["precision"] = 1e-6;  // never reached: only the cap or a stop ends a point
  spec["time_cap_s"] = 60;
  coordinator_.answer_heartbeats_with_lease_lost();
  coordinator_.queue_job(job(12, "profile", spec));
  const CommandResult run = agent("--device cpu --threads 1 --max-jobs 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(coordinator_.calls("heartbeat").size(), 1u) << run.err;  // none after lease_lost
  EXPECT_THAT(run.err, HasSubstr("job 12: lease lost"));
  EXPECT_THAT(run.err, HasSubstr("job 12 stopped after"));
  EXPECT_THAT(run.err, HasSubstr("its lease was lost; nothing is posted"));
  EXPECT_TRUE(coordinator_.calls("result").empty());
  EXPECT_TRUE(coordinator_.calls("failure").empty());
  EXPECT_EQ(outbox_files(), 0u);
}

TEST_F(AgentRunTest, SurvivesACoordinatorThatStartsLate) {
  // A free port where nothing else will be given one (support/free_port.h);
  // the coordinator comes up on it once the agent has logged that it is
  // retrying. The log goes to a file we can watch, then to stderr.
  const uint16_t port = tailsweep::testing::port_outside_the_ephemeral_range();
  const std::string log = (scratch_ / "agent.log").string();
  auto agent_run = std::async(std::launch::async, [&] {
    // `timeout`: if the coordinator never came up, the agent would retry forever.
    return run_command("{ timeout 120 " + std::string(TAILSWEEP_AGENT_BIN) +
                       " run --coordinator http://127.0.0.1:" + std::to_string(port) +
                       " --state-dir " + shell_quote(state_dir().string()) +
                       " --enroll-token-file " + shell_quote((scratch_ / "enroll.token").string()) +
                       " --device sim:jetson-nano --wait-s 1 --max-jobs 1 2>" + shell_quote(log) +
                       "; status=$?; cat " + shell_quote(log) + " >&2; exit $status; }");
  });
  const bool retried = eventually([&] {
    return tailsweep::testing::slurp(log).find("register: retrying in") != std::string::npos;
  });
  FakeCoordinator late(port);
  late.queue_job(job(13, "profile", profile_spec()));
  const CommandResult run = agent_run.get();
  EXPECT_TRUE(retried) << run.err;
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(late.calls("register").size(), 1u);
  EXPECT_EQ(late.calls("result").size(), 1u);
}

TEST_F(AgentRunTest, SigtermStopsAfterTheCurrentJob) {
  json spec = profile_spec();
  spec["batches"] = {1};
  spec["tokens"] = "2,5,9,13,17";  // long enough to still be running when the signal lands
  coordinator_.queue_job(job(14, "profile", spec));
  coordinator_.queue_job(job(15, "profile", spec));
  const auto pid_file = scratch_ / "agent.pid";
  auto agent_run = std::async(std::launch::async, [&] {
    // Braces: the output redirections apply to the agent, not to `wait`.
    return run_command("{ " + command_line("--device cpu --threads 1 --exit-when-idle 30") +
                       " & echo $! > " + shell_quote(pid_file.string()) + "; wait $!; }");
  });
  // Signal while job 14 runs (its heartbeats show it has started). Should
  // that never happen, --exit-when-idle ends the agent and the test fails.
  ASSERT_TRUE(eventually([&] { return !coordinator_.calls("heartbeat").empty(); }));
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGTERM);
  const CommandResult run = agent_run.get();
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("received SIGTERM"));
  const std::vector<Call> results = coordinator_.calls("result");
  ASSERT_EQ(results.size(), 1u) << run.err;
  EXPECT_EQ(results[0].job_id, 14);
  EXPECT_EQ(coordinator_.calls("lease").size(), 1u);  // job 15 was never asked for
}

TEST_F(AgentRunTest, ARefusedEnrollmentTokenExits2) {
  const CommandResult run =
      run_command("TAILSWEEP_ENROLL_TOKEN=wrong " + std::string(TAILSWEEP_AGENT_BIN) +
                  " run --coordinator " + coordinator_.url() + " --state-dir " +
                  shell_quote(state_dir().string()) + " --device sim:jetson-nano");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("refused the enrollment token"));
  EXPECT_THAT(run.err, ::testing::Not(HasSubstr("wrong")));
  ASSERT_EQ(coordinator_.calls("register").size(), 1u);
  EXPECT_EQ(coordinator_.calls("register")[0].token, "wrong");
}

TEST_F(AgentRunTest, BadFlagsExit2WithOneLine) {
  const std::string bin =
      "env -u TAILSWEEP_ENROLL_TOKEN " + std::string(TAILSWEEP_AGENT_BIN) + " run";
  const std::string state = " --state-dir " + shell_quote(state_dir().string());
  const std::string url = " --coordinator " + coordinator_.url();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {bin + " --enroll-token t" + state, "--coordinator: give the coordinator's URL"},
      {bin + " --coordinator ftp://x --enroll-token t" + state, "the scheme is http or https"},
      {bin + url + " --enroll-token t --device gpu" + state, "unknown device 'gpu'"},
      {bin + url + " --enroll-token t --device sim:nope" + state, "nope"},
      {bin + url + " --enroll-token t --wait-s 0" + state, "--wait-s 0"},
      {bin + url + state, "no enrollment token"},
      {bin + url + " --enroll-token-file /no/such/file" + state, "/no/such/file"},
  };
  for (const auto& [arguments, expected] : cases) {
    const CommandResult run = run_command(arguments);
    EXPECT_EQ(run.exit_code, 2) << arguments << "\n" << run.err;
    EXPECT_THAT(run.err, HasSubstr(expected)) << arguments;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << arguments << "\n" << run.err;
  }
  EXPECT_TRUE(coordinator_.calls().empty());
}

// ---- the client on its own ----

ClientOptions client_options(const std::string& url) {
  ClientOptions options;
  options.base_url = url;
  return options;
}

TEST(CoordinatorClientTest, SpeaksEachRouteWithTheRightToken) {
  FakeCoordinator coordinator;
  coordinator.queue_job(job(3, "profile", profile_spec()));
  CoordinatorClient client(client_options(coordinator.url()));
  protocol::RegisterRequest request;
  request.name = "bench-1";
  request.kind = "cpu";
  request.version = "0";
  request.git_sha = "abc";
  const protocol::RegisterResponse registered = client.register_agent(request, kEnrollToken);
  EXPECT_EQ(registered.agent_id, 1);
  EXPECT_EQ(client.agent_token(), "agent-token-1");

  const auto leased = client.lease(std::chrono::seconds(1));
  ASSERT_TRUE(leased.has_value());
  EXPECT_EQ(leased->lease_id, "lease-3");
  EXPECT_FALSE(client.lease(std::chrono::seconds(0)).has_value());
  EXPECT_EQ(client.heartbeat(3, "lease-3").outcome, HeartbeatOutcome::renewed);
  EXPECT_EQ(client.post_result(3, "lease-3", {{"points", json::array()}}).outcome,
            ResultOutcome::accepted);
  EXPECT_EQ(client.post_failure(3, "lease-3", "boom").outcome, FailureOutcome::requeued);
  for (const Call& call : coordinator.calls()) {
    EXPECT_EQ(call.token, call.route == "register" ? kEnrollToken : "agent-token-1") << call.route;
  }

  CoordinatorClient stranger(client_options(coordinator.url()), "not-a-token");
  EXPECT_THROW(stranger.lease(std::chrono::seconds(0)), Unauthorized);
  EXPECT_THROW(stranger.register_agent(request, "wrong"), Unauthorized);
  CoordinatorClient nowhere(client_options("http://127.0.0.1:1"));
  EXPECT_THROW(nowhere.lease(std::chrono::seconds(0)), TransportError);
}

TEST(HeartbeatLoopTest, BeatsUntilTheLeaseIsLostThenStops) {
  FakeCoordinator coordinator;
  CoordinatorClient client(client_options(coordinator.url()));
  client.register_agent({"bench-2", "cpu", {}, json::object(), "0", "abc"}, kEnrollToken);
  std::vector<std::string> log;
  std::mutex log_mutex;
  {
    HeartbeatLoop heartbeats(client.options(), client.agent_token(), 4, "lease-4",
                             std::chrono::milliseconds(10), [&](const std::string& line) {
                               const std::lock_guard lock(log_mutex);
                               log.push_back(line);
                             });
    ASSERT_TRUE(eventually([&] { return heartbeats.renewals() >= 2; }));
    EXPECT_FALSE(heartbeats.lease_lost());
    coordinator.answer_heartbeats_with_lease_lost();
    ASSERT_TRUE(eventually([&] { return heartbeats.lease_lost(); }));
    // Five intervals later the loop, still alive (not joined yet), has not
    // beaten again: it stopped at the lease_lost answer.
    const std::size_t at_loss = coordinator.calls("heartbeat").size();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(coordinator.calls("heartbeat").size(), at_loss);
    EXPECT_GE(at_loss, 3u);
  }  // joins the thread
  const std::lock_guard lock(log_mutex);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_THAT(log[0], HasSubstr("job 4: lease lost"));
}

}  // namespace
}  // namespace tailsweep::agent
