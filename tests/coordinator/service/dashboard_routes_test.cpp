// The dashboard's routes in-process behind the real HTTP server: the page and
// its assets without a token and with their security and caching headers,
// the sweep list, and a sweep's report in each format.
#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../support/temp_dir.h"
#include "../http/test_server.h"
#include "common/util/http_client.h"
#include "coordinator/service/coordinator_service.h"
#include "coordinator/store/store.h"

namespace tailsweep::coordinator {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

class DashboardRoutesTest : public ::testing::Test {
 protected:
  DashboardRoutesTest() : db_((dir_ / "c.db").string()) {
    store::Store::migrate(db_);
    {
      store::Store store = store::Store::open(db_);
      store::PlannedJob job;
      job.kind = "profile";
      job.spec_json = R"({"model": "deit-tiny"})";
      sweep_ = store.create_sweep("first", "{}", {job, job}, 10);
      store.create_sweep("second", "{}", {job}, 20);
    }
    CoordinatorOptions options;
    options.db_path = db_;
    options.enroll_token = "enroll";
    options.admin_token = "admin";
    service_ = std::make_unique<CoordinatorService>(options);
    server_ = std::make_unique<testing::RunningServer>(service_->router(), http::ServerOptions{});
  }

  HttpResult get(const std::string& path, const std::string& token = "admin") {
    HttpClient client(ClientOptions{server_->url(), "", milliseconds(5000), milliseconds(10'000)});
    return client.request("GET", path, "", token);
  }

  testing::TempDir dir_{"tailsweep-dashboard-routes"};
  std::string db_;
  int64_t sweep_ = 0;
  std::unique_ptr<CoordinatorService> service_;
  std::unique_ptr<testing::RunningServer> server_;
};

TEST_F(DashboardRoutesTest, ThePageAndItsAssetsNeedNoTokenAndCarryTheirHeaders) {
  const HttpResult page = get("/", "");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_THAT(page.headers, HasSubstr("Content-Type: text/html"));
  EXPECT_THAT(page.headers, HasSubstr("Content-Security-Policy: default-src 'none'; script-src "
                                      "'self'"));
  EXPECT_THAT(page.headers, HasSubstr("X-Content-Type-Options: nosniff"));
  EXPECT_THAT(page.headers, HasSubstr("Cache-Control: no-cache"));
  EXPECT_THAT(page.body, HasSubstr("<form id=\"login-form\">"));
  // The page names its assets by their content's hash; no inline script.
  EXPECT_THAT(page.body, ::testing::ContainsRegex("/assets/app\\.js\\?v=[0-9a-f]{16}"));
  EXPECT_THAT(page.body, Not(HasSubstr("<script>")));

  const HttpResult script = get("/assets/app.js", "");
  ASSERT_EQ(script.status, 200);
  EXPECT_THAT(script.headers, HasSubstr("Content-Type: text/javascript"));
  EXPECT_THAT(script.headers, HasSubstr("Cache-Control: public, max-age=31536000, immutable"));
  EXPECT_THAT(script.body, HasSubstr("sessionStorage"));
  EXPECT_EQ(get("/assets/app.css", "").status, 200);
  EXPECT_EQ(get("/assets/index.html", "").status, 404);
  EXPECT_EQ(get("/assets/secrets.txt", "").status, 404);
}

TEST_F(DashboardRoutesTest, TheSweepListIsNewestFirstWithItsJobsForTheAdminOnly) {
  EXPECT_EQ(get("/v1/sweeps", "").status, 401);
  EXPECT_EQ(get("/v1/sweeps", "enroll").status, 401);
  const HttpResult listed = get("/v1/sweeps");
  ASSERT_EQ(listed.status, 200) << listed.body;
  const json sweeps = json::parse(listed.body)["sweeps"];
  ASSERT_EQ(sweeps.size(), 2u);
  EXPECT_EQ(sweeps[0]["name"], "second");
  EXPECT_EQ(sweeps[1]["sweep_id"], sweep_);
  EXPECT_EQ(sweeps[1]["jobs"]["queued"], 2);
  EXPECT_EQ(sweeps[1]["state"], "running");
  EXPECT_EQ(json::parse(get("/v1/sweeps?limit=1").body)["sweeps"].size(), 1u);
  EXPECT_EQ(get("/v1/sweeps?limit=0").status, 400);
  EXPECT_EQ(get("/v1/sweeps?limit=abc").status, 400);
  // The sweep's own page says how its jobs stand per kind.
  const json status = json::parse(get("/v1/sweeps/" + std::to_string(sweep_)).body);
  ASSERT_EQ(status["kinds"].size(), 1u);
  EXPECT_EQ(status["kinds"][0]["kind"], "profile");
  EXPECT_EQ(status["kinds"][0]["jobs"]["queued"], 2);
}

TEST_F(DashboardRoutesTest, ASweepsReportInEachFormat) {
  const std::string base = "/v1/sweeps/" + std::to_string(sweep_) + "/report";
  EXPECT_EQ(get(base, "").status, 401);
  const HttpResult report = get(base);
  ASSERT_EQ(report.status, 200) << report.body;
  const json body = json::parse(report.body);
  EXPECT_EQ(body["sweep_id"], sweep_);
  ASSERT_FALSE(body["tables"].empty());
  bool schedules = false;
  for (const json& table : body["tables"])
    schedules = schedules || table["file_stem"] == "schedules";
  EXPECT_TRUE(schedules);
  EXPECT_FALSE(body["missing"].empty());  // nothing has run yet, and it says so

  const HttpResult csv = get(base + "?format=csv&table=schedules");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_THAT(csv.body, ::testing::StartsWith("device,simulated,model,batch,variant,"));
  EXPECT_THAT(csv.headers, HasSubstr("attachment; filename=\"schedules.csv\""));
  EXPECT_EQ(get(base + "?format=csv&table=nope").status, 404);
  EXPECT_THAT(get(base + "?format=latex").body, HasSubstr("% tailsweep report"));
  EXPECT_THAT(get(base + "?format=markdown").body, HasSubstr("# tailsweep report"));
  EXPECT_EQ(json::parse(get(base + "?format=report-json").body)["provenance"]["sweep_id"], sweep_);
  EXPECT_EQ(get(base + "?format=pdf").status, 400);
  EXPECT_EQ(get("/v1/sweeps/999/report").status, 404);
}

}  // namespace
}  // namespace tailsweep::coordinator
