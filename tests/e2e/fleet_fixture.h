#pragma once
// The e2e tests' fleet: a real coordinator and real agents started as
// processes on 127.0.0.1 (port 0), with helpers to call the coordinator as
// an admin and read its database through /v1/sql. Everything started is
// stopped when the test ends (ChildProcess), and its logs kept for failures.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../support/child_process.h"
#include "../support/free_port.h"
#include "../support/run_command.h"
#include "../support/temp_dir.h"
#include "common/util/http_client.h"

namespace tailsweep::e2e {

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
    std::vector<std::string> argv = {TAILSWEEP_BIN,
                                     "serve",
                                     "--db",
                                     (dir_ / "fleet.db").string(),
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port),
                                     "--port-file",
                                     port_file.string(),
                                     "--enroll-token",
                                     kEnroll,
                                     "--admin-token",
                                     kAdmin,
                                     "--lease-ttl",
                                     "2",
                                     "--heartbeat-interval",
                                     "0.5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    coordinator_ = std::make_unique<ChildProcess>(
        argv, dir_ / ("coordinator-" + std::to_string(starts_++) + ".log"));
    ASSERT_TRUE(eventually(
        [&] {
          return std::filesystem::exists(port_file) && std::filesystem::file_size(port_file) > 0;
        },
        10s))
        << testing::slurp(coordinator_->log());
    std::ifstream(port_file) >> port_;
    const bool tls = std::find(extra.begin(), extra.end(), "--tls-cert") != extra.end();
    url_ = tls ? "https://127.0.0.1:" : "http://127.0.0.1:";
    url_ += std::to_string(port_);
  }

  // wait_s: the agent's long-poll (short, so that tests move on quickly).
  ChildProcess& start_agent(const std::string& name, const std::string& device,
                            const std::string& wait_s = "2", std::vector<std::string> extra = {}) {
    const auto state = dir_ / ("state-" + name + "-" + std::to_string(agents_.size()));
    std::vector<std::string> argv = {TAILSWEEP_AGENT_BIN, "run",          "--coordinator",
                                     url_,                "--enroll-token", kEnroll,
                                     "--device",          device,          "--name",
                                     name,                "--state-dir",   state.string(),
                                     "--threads",         "1",             "--wait-s",
                                     wait_s};
    argv.insert(argv.end(), extra.begin(), extra.end());
    agents_.push_back(std::make_unique<ChildProcess>(
        argv, dir_ / ("agent-" + name + "-" + std::to_string(agents_.size()) + ".log")));
    return *agents_.back();
  }

  HttpResult call(const std::string& method, const std::string& path, const std::string& body,
                  const std::string& token = kAdmin) {
    HttpClient client(ClientOptions{url_, ca_cert_, 2000ms, 10000ms});
    return client.request(method, path, body, token);
  }
  json admin(const std::string& method, const std::string& path, const json& body = nullptr) {
    const HttpResult result = call(method, path, body.is_null() ? "" : body.dump());
    EXPECT_LT(result.status, 300) << path << ": " << result.body;
    return json::parse(result.body);
  }
  json sql(const std::string& query) { return admin("POST", "/v1/sql", {{"sql", query}})["rows"]; }
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
      text += '\n';
      text += agent->log().filename().string();
      text += ":\n";
      text += testing::slurp(agent->log());
    }
    return text;
  }
  static json profile_sweep(const std::string& name, const json& devices, const std::string& model,
                            const std::string& tokens, double time_cap_s, int workloads = 1) {
    json spec = {{"name", name}, {"devices", devices}, {"workloads", json::array()}};
    for (int i = 0; i < workloads; ++i) {
      spec["workloads"].push_back({{"model", model},
                                   {"seed", i},
                                   {"curves",
                                    {{"batches", {1}},
                                     {"tokens", tokens},
                                     {"precision", 0.0001},
                                     {"time_cap_s", time_cap_s},
                                     {"warmup_s", 0.0}}}});
    }
    return spec;
  }

  testing::TempDir dir_{"tailsweep-e2e"};
  std::unique_ptr<ChildProcess> coordinator_;
  std::vector<std::unique_ptr<ChildProcess>> agents_;
  int starts_ = 0;
  uint16_t port_ = 0;
  std::string url_;
  std::string ca_cert_;  // the admin's CA file against a TLS coordinator
};

}  // namespace tailsweep::e2e
