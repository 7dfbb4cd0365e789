#include "common/wire/protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::protocol {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

template <typename Parse>
std::string error_of(Parse parse, const json& body) {
  try {
    parse(body);
  } catch (const InputError& error) {
    return error.what();
  }
  return "accepted";
}

TEST(Protocol, EveryBodyRoundTrips) {
  RegisterRequest reg{"orin-1", "jetson", {"lab", "b"}, {{"cpu", "x"}}, "0.1.0", "abc"};
  const RegisterRequest reg2 = parse_register_request(to_json(reg));
  EXPECT_EQ(reg2.name, "orin-1");
  EXPECT_EQ(reg2.tags, reg.tags);
  EXPECT_EQ(reg2.facts, reg.facts);

  LeaseResponse lease{JobAssignment{7, "ab12", "profile", {{"model", "deit-tiny"}}, 2, 99.5}};
  const LeaseResponse lease2 = parse_lease_response(to_json(lease));
  ASSERT_TRUE(lease2.job.has_value());
  EXPECT_EQ(lease2.job->job_id, 7);
  EXPECT_EQ(lease2.job->attempt, 2);
  EXPECT_FALSE(parse_lease_response(to_json(LeaseResponse{})).job.has_value());

  ProfileJobSpec profile;
  profile.model = "deit-tiny";
  profile.tokens = "2,197";
  profile.batches = {1, 4};
  profile.weights = "w";
  const ProfileJobSpec profile2 = parse_profile_job_spec(to_json(profile));
  EXPECT_EQ(profile2.batches, profile.batches);
  EXPECT_EQ(profile2.weights, "w");
  ProfileJobSpec latency = profile;
  latency.tokens.clear();
  latency.methods = {"none", "tome:8", "pomt:95"};
  EXPECT_EQ(parse_profile_job_spec(to_json(latency)).methods, latency.methods);
  EXPECT_FALSE(to_json(latency).contains("tokens"));
  // Paired clustering is written only when asked, so older agents still
  // read every other latency job.
  EXPECT_FALSE(to_json(latency).contains("paired_clusters"));
  EXPECT_FALSE(to_json(latency).contains("weight_kernel"));
  latency.paired_clusters = {16, 64};
  latency.weight_kernel = "lookup";
  const ProfileJobSpec paired = parse_profile_job_spec(to_json(latency));
  EXPECT_EQ(paired.paired_clusters, latency.paired_clusters);
  EXPECT_EQ(paired.weight_kernel, "lookup");
  // A simulated device's HDP shares, likewise only when set.
  EXPECT_FALSE(to_json(latency).contains("hdp_shares"));
  latency.methods.push_back("hdp:heads=0.1");
  latency.hdp_shares = {{"hdp:heads=0.1", {0.25, 0.5}, {0, 0.5}, 12}};
  const ProfileJobSpec modelled = parse_profile_job_spec(to_json(latency));
  ASSERT_EQ(modelled.hdp_shares.size(), 1u);
  EXPECT_EQ(modelled.hdp_shares[0].heads_pruned, (std::vector<double>{0.25, 0.5}));
  EXPECT_EQ(modelled.hdp_shares[0].source_job_id, 12);

  EvalJobSpec eval;
  eval.model = "fmnist-vit";
  eval.tokens = "2:197:5";
  const EvalJobSpec eval2 = parse_eval_job_spec(to_json(eval));
  EXPECT_EQ(eval2.tokens, "2:197:5");
  EXPECT_FALSE(eval2.weights.has_value());
}

TEST(Protocol, BadBodiesNameTheField) {
  EXPECT_THAT(error_of(parse_register_request, json{{"name", "a"}}), HasSubstr("kind: missing"));
  EXPECT_THAT(error_of(parse_register_request,
                       json{{"name", "a"}, {"kind", "gpu"}, {"version", "1"}, {"git_sha", "x"}}),
              HasSubstr("not one of cpu, cuda, jetson, sim"));
  EXPECT_THAT(error_of(parse_lease_request, json{{"wait_s", 61}}), HasSubstr("outside 0..60"));
  EXPECT_THAT(error_of(parse_lease_request, json{{"wait_s", "5"}}), HasSubstr("expected a number"));
  EXPECT_THAT(error_of(parse_lease_request, json{{"wait", 5}}), HasSubstr("unknown field"));
  EXPECT_THAT(error_of(parse_result_request, json{{"lease_id", "x"}, {"result", 3}}),
              HasSubstr("result: expected a JSON object"));
  EXPECT_THAT(error_of(parse_heartbeat_request, json::array()),
              HasSubstr("expected a JSON object"));
  EXPECT_THAT(
      error_of(parse_profile_job_spec, json{{"model", "m"}, {"tokens", "2"}, {"batches", {0}}}),
      HasSubstr("batches[0]"));
  EXPECT_THAT(
      error_of(parse_profile_job_spec, json{{"model", "m"}, {"tokens", "2"}, {"precision", 1.5}}),
      HasSubstr("precision"));
  // A curve or a list of methods: exactly one.
  EXPECT_THAT(error_of(parse_profile_job_spec, json{{"model", "m"}}), HasSubstr("tokens"));
  EXPECT_THAT(error_of(parse_profile_job_spec,
                       json{{"model", "m"}, {"tokens", "2"}, {"methods", {"none"}}}),
              HasSubstr("either"));
  const json latency = {{"model", "m"}, {"methods", {"none"}}};
  for (const json& ks : {json{1}, json{64, 64}, json{257}, json{"64"}}) {
    json spec = latency;
    spec["paired_clusters"] = ks;
    EXPECT_THAT(error_of(parse_profile_job_spec, spec),
                HasSubstr("expected a K in 2..256, each once"))
        << ks.dump();
  }
  EXPECT_THAT(error_of(parse_profile_job_spec,
                       json{{"model", "m"}, {"tokens", "2"}, {"paired_clusters", {64}}}),
              HasSubstr("paired_clusters: only a latency job"));
  json kernel = latency;
  kernel["weight_kernel"] = "int8";
  EXPECT_THAT(error_of(parse_profile_job_spec, kernel), HasSubstr("neither dense nor lookup"));
  const json hdp_latency = {{"model", "m"}, {"methods", {"none", "hdp:heads=0.1"}}};
  const json good = {{"method", "hdp:heads=0.1"}, {"heads_pruned", {0.1}}, {"blocks_pruned", {0}}};
  for (const auto& [shares, message] : std::vector<std::pair<json, std::string>>{
           {json::array({good}), "planned"},
           {json::object(), "hdp_shares: expected an array"},
           {json::array(
                {json{{"method", "topk:8"}, {"heads_pruned", {0.1}}, {"blocks_pruned", {0}}}}),
            "hdp_shares[0].method: has no HDP to model"},
           {json::array({json{
                {"method", "hdp:blocks=0.5"}, {"heads_pruned", {0.1}}, {"blocks_pruned", {0}}}}),
            "is not one of the job's methods"},
           {json::array({json{
                {"method", "hdp:heads=0.1"}, {"heads_pruned", {1.5}}, {"blocks_pruned", {0}}}}),
            "hdp_shares[0].heads_pruned[0]: expected a share in [0, 1]"},
           {json::array({json{{"method", "hdp:heads=0.1"},
                              {"heads_pruned", {0.1, 0.2}},
                              {"blocks_pruned", {0}}}}),
            "expected as many blocks as heads_pruned has"},
           {json::array({json{{"method", "hdp:heads=0.1"},
                              {"heads_pruned", {0.1}},
                              {"blocks_pruned", {0}},
                              {"rows", 1}}}),
            "hdp_shares[0].rows: unknown field"}}) {
    json spec = hdp_latency;
    spec["hdp_shares"] = shares;
    std::string error = "planned";
    try {
      parse_profile_job_spec(spec);
    } catch (const InputError& e) {
      error = e.what();
    }
    EXPECT_THAT(error, HasSubstr(message)) << shares.dump();
  }
}

TEST(Protocol, ErrorBodiesAreReadBestEffort) {
  const ErrorBody error =
      parse_error_body(R"({"error": {"code": "stale_lease", "message": "gone"}})");
  EXPECT_EQ(error.code, "stale_lease");
  EXPECT_EQ(error.message, "gone");
  EXPECT_EQ(parse_error_body("<html>bad gateway</html>").code, "unknown");
}

}  // namespace
}  // namespace tailsweep::protocol
