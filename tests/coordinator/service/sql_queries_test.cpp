// The coordinator in-process behind its real HTTP server: admin SQL runs on
// threads of its own, so slow queries do not hold the workers that agents'
// requests need.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "../../support/temp_dir.h"
#include "../http/test_server.h"
#include "common/util/http_client.h"
#include "coordinator/service/coordinator_service.h"
#include "coordinator/store/store.h"

namespace tailsweep::coordinator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Counts up until its time limit stops it: 800 ms on any machine.
constexpr const char* kSlowQuery =
    R"({"sql": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", "timeout_ms": 800})";

class SqlQueriesTest : public ::testing::Test {
 protected:
  SqlQueriesTest() : db_((dir_ / "c.db").string()) { store::Store::migrate(db_); }

  void start(std::size_t sql_max_waiting) {
    CoordinatorOptions options;
    options.db_path = db_;
    options.enroll_token = "enroll";
    options.admin_token = "admin";
    options.sql_max_waiting = sql_max_waiting;
    service_ = std::make_unique<CoordinatorService>(options);
    http::ServerOptions server;
    server.worker_threads = 1;  // one worker: a query on it would hold every other request
    server_ = std::make_unique<testing::RunningServer>(service_->router(), server);
  }

  HttpResult call(const std::string& path, const std::string& body, const std::string& token) {
    HttpClient client(ClientOptions{server_->url(), "", milliseconds(5000), milliseconds(30'000)});
    return client.request("POST", path, body, token);
  }

  testing::TempDir dir_{"tailsweep-sql-queries"};
  std::string db_;
  std::unique_ptr<CoordinatorService> service_;
  std::unique_ptr<testing::RunningServer> server_;
};

TEST_F(SqlQueriesTest, SlowQueriesDoNotStallAgentRequests) {
  start(8);
  auto first = std::async(std::launch::async, [&] { return call("/v1/sql", kSlowQuery, "admin"); });
  auto second = std::async(std::launch::async, [&] { return call("/v1/sql", kSlowQuery, "admin"); });
  std::this_thread::sleep_for(milliseconds(100));  // both queries are in by now, on the SQL threads
  // An agent registers while they run: before, this waited behind the
  // queries on the only worker.
  const HttpResult registered = call(
      "/v1/agents/register", R"({"name": "n", "kind": "sim", "version": "1", "git_sha": "s"})",
      "enroll");
  const bool registered_first = first.wait_for(milliseconds(0)) != std::future_status::ready &&
                                second.wait_for(milliseconds(0)) != std::future_status::ready;
  EXPECT_EQ(registered.status, 201) << registered.body;
  EXPECT_TRUE(registered_first) << "the registration waited for the SQL queries";
  // Both queries end at their own limit, as 400s naming it.
  for (auto* query : {&first, &second}) {
    const HttpResult answer = query->get();
    EXPECT_EQ(answer.status, 400) << answer.body;
    EXPECT_THAT(answer.body, ::testing::HasSubstr("time limit"));
  }
}

TEST_F(SqlQueriesTest, QueriesPastTheWaitingLimitAre503) {
  // Two run, one waits: a fourth is turned away.
  start(1);
  std::vector<std::future<HttpResult>> queries;
  for (int i = 0; i < 3; ++i) {
    queries.push_back(std::async(std::launch::async, [&] { return call("/v1/sql", kSlowQuery, "admin"); }));
    std::this_thread::sleep_for(milliseconds(50));
  }
  const HttpResult refused = call("/v1/sql", kSlowQuery, "admin");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_THAT(refused.body, ::testing::HasSubstr("too_many_queries"));
  for (auto& query : queries) EXPECT_EQ(query.get().status, 400);
}

}  // namespace
}  // namespace tailsweep::coordinator
