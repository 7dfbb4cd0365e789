#pragma once
// A migrated database in a scratch folder, a Store on it, and helpers to
// register agents and plan jobs, for the store's tests.
#include <string>

#include <gtest/gtest.h>

#include "../../support/temp_dir.h"
#include "common/util/sha256.h"
#include "coordinator/store/store.h"

namespace tailsweep::store {

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : path_((dir_ / "results.db").string()) {
    Store::migrate(path_);
    store_.emplace(Store::open(path_));
  }

  Store& store() { return *store_; }
  const std::string& path() const { return path_; }

  RegisteredAgent register_agent(const std::string& device, bool simulated = false,
                                 double now_s = 100) {
    AgentRegistration registration;
    registration.device_name = device;
    registration.device_kind = simulated ? "sim" : "cpu";
    registration.simulated = simulated;
    registration.tags = {"test"};
    registration.facts_json = R"({"cpu_model": "test"})";
    registration.token_sha256 = sha256_hex("token-" + std::to_string(token_counter_++));
    registration.version = "0.1.0";
    registration.git_sha = "abc123";
    registration.now_s = now_s;
    return store().register_agent(registration);
  }

  static PlannedJob profile_job(std::optional<int64_t> device_id, int64_t priority = 0,
                                int64_t max_attempts = 3) {
    PlannedJob job;
    job.kind = "profile";
    job.device_id = device_id;
    job.spec_json = R"({"model": "deit-tiny"})";
    job.priority = priority;
    job.max_attempts = max_attempts;
    return job;
  }

  // The number of rows a query's single count(*) returns.
  int64_t count(const std::string& sql) {
    auto statement = store().database().prepare(sql);
    statement.step();
    return statement.column_int64(0);
  }

  std::string job_state(int64_t job_id) { return store().job(job_id).value().state; }

 private:
  testing::TempDir dir_{"tailsweep-store"};
  std::string path_;
  std::optional<Store> store_;
  int token_counter_ = 0;
};

}  // namespace tailsweep::store
