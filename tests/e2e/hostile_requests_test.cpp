// The hostile requests that a probe of the built binaries found crashing or
// corrupting the coordinator, each against the real `tailsweep serve` on
// 127.0.0.1: the answer must be the documented error, nothing may be
// stored, and the coordinator must still be serving afterwards.
#include "../support/raw_connection.h"
#include "fleet_fixture.h"

namespace tailsweep::e2e {
namespace {

using ::testing::HasSubstr;

std::string nested_objects(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += R"({"a":)";
  return text + "1" + std::string(depth, '}');
}

class HostileRequests : public Fleet {
 protected:
  std::string code_of(const HttpResult& result) {
    return json::parse(result.body)["error"]["code"].get<std::string>();
  }
  std::string message_of(const HttpResult& result) {
    return json::parse(result.body)["error"]["message"].get<std::string>();
  }
  // Registers a device through the API (no agent process): its token.
  std::string register_device(const std::string& name, const std::string& kind) {
    const json body = {{"name", name}, {"kind", kind}, {"version", "1"}, {"git_sha", "s"}};
    const HttpResult answer = call("POST", "/v1/agents/register", body.dump(), kEnroll);
    EXPECT_EQ(answer.status, 201) << answer.body;
    return json::parse(answer.body)["token"].get<std::string>();
  }
  void expect_serving() {
    EXPECT_EQ(call("GET", "/healthz", "").status, 200);
    EXPECT_TRUE(coordinator_->running()) << logs();
  }
};

// Before: exit 139 (a stack overflow), with no log line.
TEST_F(HostileRequests, DeeplyNestedJsonIsRefusedWith400) {
  start_coordinator();
  for (const int depth : {70'000, 10'000, 65}) {
    const std::string body =
        R"({"name": "n", "kind": "cpu", "version": "1", "git_sha": "s", "facts": )" +
        nested_objects(depth) + "}";
    const HttpResult answer = call("POST", "/v1/agents/register", body, kEnroll);
    EXPECT_EQ(answer.status, 400) << depth;
    EXPECT_EQ(code_of(answer), "invalid_json");
    EXPECT_THAT(message_of(answer), HasSubstr("nested deeper than 64"));
  }
  const std::string token = register_device("cpu-1", "cpu");
  admin("POST", "/v1/sweeps", profile_sweep("one", json::object(), kTinyModel, "2,17", 0.5));
  const json lease = json::parse(call("POST", "/v1/lease", "{}", token).body);
  ASSERT_FALSE(lease["job"].is_null());
  const std::string body = R"({"lease_id": ")" + lease["job"]["lease_id"].get<std::string>() +
                           R"(", "result": )" + nested_objects(70'000) + "}";
  const HttpResult answer =
      call("POST", "/v1/jobs/" + lease["job"]["job_id"].dump() + "/result", body, token);
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(code_of(answer), "invalid_json");
  EXPECT_EQ(sql_count("SELECT count(*) FROM results"), 0);
  expect_serving();
}

TEST_F(HostileRequests, DuplicateKeysAndOverflowingNumbersAre400) {
  start_coordinator();
  HttpResult answer =
      call("POST", "/v1/agents/register",
           R"({"name": "a", "name": "b", "kind": "cpu", "version": "1", "git_sha": "s"})", kEnroll);
  EXPECT_EQ(answer.status, 400);
  EXPECT_THAT(message_of(answer), HasSubstr("duplicate key \"name\""));
  answer = call("POST", "/v1/sweeps", R"({"name": "x", "workloads": [{"model": "deit-tiny",
      "curves": {"precision": 1e400}}]})");
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(code_of(answer), "invalid_json");
  expect_serving();
}

// Before: "failed: field value too large", and the coordinator exited.
TEST_F(HostileRequests, AChunkedTrailerOverTheHeaderLimitIs431) {
  start_coordinator();
  testing::RawConnection connection(port_);
  connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " +
                  std::string(65'600, 'a') + "\r\n\r\n");
  EXPECT_EQ(testing::status_of(connection.read_until_closed().data), 431);
  expect_serving();
}

// Before: registering "dev" as cpu after sim relabelled its simulated curves as real.
TEST_F(HostileRequests, ADeviceNameKeepsItsKind) {
  start_coordinator();
  register_device("dev", "sim");
  const json body = {{"name", "dev"}, {"kind", "cpu"}, {"version", "1"}, {"git_sha", "s"}};
  const HttpResult answer = call("POST", "/v1/agents/register", body.dump(), kEnroll);
  EXPECT_EQ(answer.status, 409);
  EXPECT_EQ(code_of(answer), "device_kind_conflict");
  EXPECT_THAT(message_of(answer), HasSubstr("registered as kind 'sim'"));
  const json devices = admin("GET", "/v1/devices")["devices"];
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0]["kind"], "sim");
  EXPECT_EQ(devices[0]["simulated"], true);
}

// Before: a deit-base curve with 999,999 tokens and -5 ms was stored for a deit-tiny job.
TEST_F(HostileRequests, AResultThatDoesNotAnswerItsJobIs400) {
  start_coordinator();
  const std::string token = register_device("cpu-1", "cpu");
  admin("POST", "/v1/sweeps", profile_sweep("one", json::object(), kTinyModel, "2,17", 0.5));
  const json lease = json::parse(call("POST", "/v1/lease", "{}", token).body)["job"];
  json point = {{"batch", 1},
                {"tokens", 999999},
                {"median_ms", 1.0},
                {"p5_ms", 1.0},
                {"p25_ms", 1.0},
                {"p75_ms", 1.0},
                {"p95_ms", 1.0},
                {"mean_ms", 1.0},
                {"stddev_ms", 0.0},
                {"mad_ms", 0.0},
                {"samples", 1},
                {"stable", true},
                {"reached_precision", true},
                {"power", nullptr},
                {"raw_ms", {1.0}}};
  json result = {{"model", {{"name", kTinyModel}}},
                 {"mode", "model"},
                 {"power", {{"available", false}, {"reason", "none"}}},
                 {"device", {{"simulated", false}}},
                 {"points", {point}}};
  const auto post = [&] {
    return call("POST", "/v1/jobs/" + lease["job_id"].dump() + "/result",
                json{{"lease_id", lease["lease_id"]}, {"result", result}}.dump(), token);
  };
  HttpResult answer = post();
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(code_of(answer), "invalid_result");
  EXPECT_THAT(message_of(answer),
              HasSubstr("points[0].tokens: 999999 is not in the job's token grid"));
  result["points"][0]["tokens"] = 17;
  result["device"]["simulated"] = true;
  EXPECT_THAT(message_of(post()), HasSubstr("device.simulated"));
  result["device"]["simulated"] = false;
  EXPECT_THAT(message_of(post()), HasSubstr("points: 1 points for the job's 2"));  // whole, or not
  point["tokens"] = 2;
  result["points"].push_back(point);
  EXPECT_EQ(post().status, 200);  // now it answers the job
  EXPECT_EQ(sql_count("SELECT count(*) FROM curve_points"), 2);
}

// Before: SELECT randomblob(1e9) answered 2 GB after 21 s, at 6.2 GB of RSS.
TEST_F(HostileRequests, OneSqlQueryCannotTakeTheCoordinatorsMemory) {
  start_coordinator(0, {"--sql-max-bytes", "100000"});
  HttpResult answer = call("POST", "/v1/sql", json{{"sql", "SELECT randomblob(1e9)"}}.dump());
  EXPECT_EQ(answer.status, 400);
  EXPECT_THAT(message_of(answer), HasSubstr("too big"));
  const json many = admin("POST", "/v1/sql",
                          {{"sql",
                            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                            "LIMIT 100000) SELECT x, hex(randomblob(64)) FROM n"}});
  EXPECT_EQ(many["truncated"], true);
  EXPECT_EQ(many["truncated_by"], "max_bytes");
  EXPECT_LE(many.dump().size(), 100'000u + 200u);
  expect_serving();
}

// Before: one 112 kB spec planned 235,700 jobs in one transaction, and a
// custom model of dim 100,000 x depth 100,000 was accepted.
TEST_F(HostileRequests, SweepsAndTheirModelsAreBounded) {
  start_coordinator(0, {"--max-sweep-jobs", "3"});
  register_device("sim-1", "sim");
  json spec = profile_sweep("big", json::object(), "deit-tiny", "2,197", 0.5, /*workloads=*/4);
  HttpResult answer = call("POST", "/v1/sweeps", spec.dump());
  EXPECT_EQ(answer.status, 400);
  EXPECT_THAT(message_of(answer), HasSubstr("more than 3 jobs"));
  spec = profile_sweep("huge-model", json::object(), "custom:dim=100000,depth=100000,heads=10",
                       "2,197", 0.5);
  answer = call("POST", "/v1/sweeps", spec.dump());
  EXPECT_EQ(answer.status, 400);
  EXPECT_THAT(message_of(answer), HasSubstr("dim 100000 is over"));
  EXPECT_EQ(sql_count("SELECT count(*) FROM jobs"), 0);
  EXPECT_EQ(call("POST", "/v1/sweeps",
                 profile_sweep("ok", json::object(), "deit-tiny", "2,197", 0.5, 3).dump())
                .status,
            201);
}

// Before: a newline in a name escaped a LaTeX comment in tables.tex.
TEST_F(HostileRequests, NamesOutsideTheCharacterSetAre400) {
  start_coordinator();
  const json device = {
      {"name", "a\n\\input{/etc/passwd}"}, {"kind", "cpu"}, {"version", "1"}, {"git_sha", "s"}};
  HttpResult answer = call("POST", "/v1/agents/register", device.dump(), kEnroll);
  EXPECT_EQ(answer.status, 400);
  EXPECT_THAT(message_of(answer), HasSubstr("is not a valid name"));
  register_device("sim-1", "sim");
  const json sweep = profile_sweep("a\n\\input{x}", json::object(), "deit-tiny", "2,197", 0.5);
  answer = call("POST", "/v1/sweeps", sweep.dump());
  EXPECT_EQ(answer.status, 400);
  EXPECT_THAT(message_of(answer), HasSubstr("name: \"a\\x0a\\input{x}\" is not a valid name"));
}

}  // namespace
}  // namespace tailsweep::e2e
