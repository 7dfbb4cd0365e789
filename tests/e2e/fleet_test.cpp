// End to end, with real processes on 127.0.0.1: a coordinator, agents on
// simulated and real (CPU) devices, sweeps, crashes (SIGKILL) of an agent and
// of the coordinator, and bad requests against the running server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "../support/child_process.h"
#include "../support/run_command.h"
#include "../support/temp_dir.h"
#include "common/http_client.h"

namespace tailsweep {
namespace {

using nlohmann::json;
using testing::ChildProcess;
using namespace std::chrono_literals;

// A tiny model the CPU agents measure in well under a second per point.
constexpr const char* kTinyModel = "custom:dim=32,depth=2,heads=2,patch=8,image=32,classes=5";
constexpr const char* kEnroll = "e2e-enroll-token";
constexpr const char* kAdmin = "e2e-admin-token";

class Fleet : public ::testing::Test {
 protected:
  void start_coordinator(uint16_t port = 0, std::vector<std::string> extra = {}) {
    const auto port_file = dir_ / "port";
    std::filesystem::remove(port_file);
    std::vector<std::string> argv = {TAILSWEEP_BIN, "serve", "--db", (dir_ / "fleet.db").string(),
                                     "--listen", "127.0.0.1:" + std::to_string(port),
                                     "--port-file", port_file.string(), "--enroll-token", kEnroll,
                                     "--admin-token", kAdmin, "--lease-ttl", "2",
                                     "--heartbeat-interval", "0.5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    coordinator_ = std::make_unique<ChildProcess>(argv, dir_ / ("coordinator-" +
                                                              std::to_string(starts_++) + ".log"));
    ASSERT_TRUE(eventually([&] { return std::filesystem::exists(port_file) &&
                                        std::filesystem::file_size(port_file) > 0; }, 10s))
        << testing::slurp(coordinator_->log());
    std::ifstream(port_file) >> port_;
    url_ = "http://127.0.0.1:" + std::to_string(port_);
  }

  ChildProcess& start_agent(const std::string& name, const std::string& device) {
    const auto state = dir_ / ("state-" + name + "-" + std::to_string(agents_.size()));
    agents_.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{TAILSWEEP_AGENT_BIN, "run", "--coordinator", url_,
                                 "--enroll-token", kEnroll, "--device", device, "--name", name,
                                 "--state-dir", state.string(), "--threads", "1", "--wait-s",
                                 "2"},
        dir_ / ("agent-" + name + "-" + std::to_string(agents_.size()) + ".log")));
    return *agents_.back();
  }

  HttpResult call(const std::string& method, const std::string& path, const std::string& body,
                  const std::string& token = kAdmin) {
    HttpClient client(ClientOptions{url_, {}, 2000ms, 10000ms});
    return client.request(method, path, body, token);
  }
  json admin(const std::string& method, const std::string& path, const json& body = nullptr) {
    const HttpResult result = call(method, path, body.is_null() ? "" : body.dump());
    EXPECT_LT(result.status, 300) << path << ": " << result.body;
    return json::parse(result.body);
  }
  json sql(const std::string& query) {
    return admin("POST", "/v1/sql", {{"sql", query}})["rows"];
  }
  int64_t sql_count(const std::string& query) { return sql(query)[0][0].get<int64_t>(); }

  static bool eventually(const std::function<bool()>& done, std::chrono::seconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      try {
        if (done()) return true;
      } catch (const std::exception&) {
        // Not up yet (a refused connection): keep waiting.
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  bool devices_registered(std::size_t count) {
    return admin("GET", "/v1/devices")["devices"].size() >= count;
  }
  std::string sweep_state(int64_t id) {
    return admin("GET", "/v1/sweeps/" + std::to_string(id))["state"].get<std::string>();
  }
  std::string logs() {
    std::string text = "coordinator:\n" + testing::slurp(coordinator_->log());
    for (const auto& agent : agents_) {
      text += "\n" + agent->log().filename().string() + ":\n" + testing::slurp(agent->log());
    }
    return text;
  }
  static json profile_sweep(const std::string& name, const json& devices, const std::string& model,
                            const std::string& tokens, double time_cap_s, int workloads = 1) {
    json spec = {{"name", name}, {"devices", devices}, {"workloads", json::array()}};
    for (int i = 0; i < workloads; ++i) {
      spec["workloads"].push_back(
          {{"model", model}, {"seed", i},
           {"curves", {{"batches", {1}}, {"tokens", tokens}, {"precision", 0.0001},
                       {"time_cap_s", time_cap_s}, {"warmup_s", 0.0}}}});
    }
    return spec;
  }

  testing::TempDir dir_{"tailsweep-e2e"};
  std::unique_ptr<ChildProcess> coordinator_;
  std::vector<std::unique_ptr<ChildProcess>> agents_;
  int starts_ = 0;
  uint16_t port_ = 0;
  std::string url_;
};

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
  const json steps = sql(
      "SELECT d.name, d.simulated, a.median_ms, b.median_ms FROM curve_points a "
      "JOIN curve_points b ON a.job_id = b.job_id AND a.tokens = 128 AND b.tokens = 129 "
      "JOIN devices d ON d.id = a.device_id ORDER BY d.name");
  ASSERT_EQ(steps.size(), 3u);
  for (const json& row : steps) {
    EXPECT_EQ(row[1], 1) << row;
    EXPECT_GT(row[3].get<double>(), row[2].get<double>()) << row;
  }
}

TEST_F(Fleet, AJobOfAnAgentKilledMidJobCompletesOnAnotherAfterItsLeaseExpires) {
  start_coordinator();
  ChildProcess& first = start_agent("box", "cpu");
  ASSERT_TRUE(eventually([&] { return devices_registered(1); }, 20s)) << logs();
  // Three points at a precision that is never reached: about 3 x 1.5 s of work.
  const int64_t sweep =
      admin("POST", "/v1/sweeps", profile_sweep("crash", json::object(), kTinyModel, "2,9,17", 1.5))
          ["sweep_id"].get<int64_t>();
  ASSERT_TRUE(eventually([&] { return sql_count("SELECT count(*) FROM jobs WHERE state = 'leased'") == 1; }, 20s))
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
  start_coordinator();
  start_agent("box", "cpu");
  start_agent("nano", "sim:jetson-nano");
  ASSERT_TRUE(eventually([&] { return devices_registered(2); }, 20s)) << logs();
  // Six workloads on two devices: twelve profile jobs, the CPU's ~1 s each.
  const int64_t sweep = admin("POST", "/v1/sweeps",
                              profile_sweep("restart", json::object(), kTinyModel, "2,17", 0.5, 6))
                            ["sweep_id"].get<int64_t>();
  ASSERT_TRUE(eventually([&] { return sql_count("SELECT count(*) FROM results r JOIN devices d ON "
                                                "d.id = r.device_id WHERE d.name = 'box'") >= 1; },
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
  bad = call("POST", "/v1/agents/register", R"({"name": 3, "kind": "cpu", "version": "1", "git_sha": "s"})", kEnroll);
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(json::parse(bad.body)["error"]["message"].get<std::string>(), ::testing::HasSubstr("name"));
  bad = call("POST", "/v1/agents/register",
             R"({"name": "x", "kind": "cpu", "version": "1", "git_sha": "s", "extra": 1})", kEnroll);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(call("POST", "/v1/sweeps", std::string(10000, ' ')).status, 413);
  EXPECT_EQ(call("POST", "/v1/sweeps", "{}", "not-admin").status, 401);
  EXPECT_EQ(call("GET", "/v1/sweeps/99", "").status, 404);

  // A result for another agent's lease is refused.
  const json x = json::parse(call("POST", "/v1/agents/register", reg, kEnroll).body);
  const json y = json::parse(call("POST", "/v1/agents/register",
      R"({"name": "x", "kind": "cpu", "version": "1", "git_sha": "s"})", kEnroll).body);
  admin("POST", "/v1/sweeps", profile_sweep("one", json::object(), kTinyModel, "2,17", 0.5));
  const json lease = json::parse(call("POST", "/v1/lease", "{}", x["token"].get<std::string>()).body);
  ASSERT_FALSE(lease["job"].is_null());
  const std::string result_path = "/v1/jobs/" + lease["job"]["job_id"].dump() + "/result";
  const json post = {{"lease_id", lease["job"]["lease_id"]}, {"result", {{"points", 1}}}};
  bad = call("POST", result_path, post.dump(), y["token"].get<std::string>());
  EXPECT_EQ(bad.status, 409);
  EXPECT_EQ(code_of(bad), "stale_lease");
  bad = call("POST", result_path, post.dump(), x["token"].get<std::string>());  // the right lease, a broken body
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(code_of(bad), "invalid_result");
  EXPECT_EQ(call("POST", "/v1/jobs/12345/heartbeat", R"({"lease_id": "z"})", x["token"].get<std::string>()).status, 409);
  EXPECT_EQ(call("GET", "/healthz", "").status, 200);
  EXPECT_TRUE(coordinator_->running());
}

}  // namespace
}  // namespace tailsweep
