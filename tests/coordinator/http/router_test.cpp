// The route table, the exception-to-error mapping and the Responder's
// once-only contract, with no server: dispatch() into a recording sink.
#include "coordinator/http/router.h"

#include <thread>

#include <gtest/gtest.h>

#include "common/util/errors.h"
#include "coordinator/http/url.h"

namespace tailsweep::http {
namespace {

struct Recorded {
  std::vector<Response> responses;
};

// Dispatches and returns every response the sink received (the Responder is
// dropped at the end, so a handler that never answers shows up as a 500).
std::vector<Response> dispatch(const Router& router, std::string method, std::string path) {
  auto recorded = std::make_shared<Recorded>();
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  router.dispatch(std::move(request), Responder([recorded](Response response) {
                    recorded->responses.push_back(std::move(response));
                  }));
  return recorded->responses;
}

nlohmann::json error_of(const Response& response) {
  return nlohmann::json::parse(response.body).at("error");
}

TEST(ErrorResponse, HasTheOneErrorShape) {
  const Response response = error_response(ErrorCode::kLeaseLost, "the lease \"x\" expired");
  EXPECT_EQ(response.status, 409u);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(response.body),
            (nlohmann::json{
                {"error", {{"code", "lease_lost"}, {"message", "the lease \"x\" expired"}}}}));
}

TEST(ErrorResponse, SurvivesInvalidUtf8InTheMessage) {
  const Response response = error_response(ErrorCode::kBadRequest, "bad byte \xff here");
  EXPECT_EQ(error_of(response).at("code"), "bad_request");
}

TEST(Router, MatchesLiteralsAndFillsDecodedPathParams) {
  Router router;
  router.add_sync("GET", "/v1/jobs/{id}/result", [](const Request& request) {
    return json_response(200, {{"id", request.path_params.at("id")}});
  });
  const auto responses = dispatch(router, "GET", "/v1/jobs/job%2042/result");
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200u);
  EXPECT_EQ(nlohmann::json::parse(responses[0].body).at("id"), "job 42");
}

TEST(Router, FirstMatchingRouteWins) {
  Router router;
  router.add_sync("GET", "/v1/jobs/next",
                  [](const Request&) { return json_response(200, "literal"); });
  router.add_sync("GET", "/v1/jobs/{id}",
                  [](const Request&) { return json_response(200, "param"); });
  EXPECT_EQ(dispatch(router, "GET", "/v1/jobs/next")[0].body, "\"literal\"");
  EXPECT_EQ(dispatch(router, "GET", "/v1/jobs/7")[0].body, "\"param\"");
}

TEST(Router, UnknownPathIs404) {
  Router router;
  router.add_sync("GET", "/v1/jobs/{id}", [](const Request&) { return json_response(200, {}); });
  for (const char* path : {"/v1/other", "/v1/jobs", "/v1/jobs/", "/v1/jobs/1/extra", "/"}) {
    const auto responses = dispatch(router, "GET", path);
    ASSERT_EQ(responses.size(), 1u) << path;
    EXPECT_EQ(responses[0].status, 404u) << path;
    EXPECT_EQ(error_of(responses[0]).at("code"), "not_found") << path;
  }
}

TEST(Router, KnownPathWithOtherMethodIs405WithAllow) {
  Router router;
  router.add_sync("GET", "/v1/sweeps", [](const Request&) { return json_response(200, {}); });
  router.add_sync("POST", "/v1/sweeps", [](const Request&) { return json_response(201, {}); });
  const auto responses = dispatch(router, "DELETE", "/v1/sweeps");
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 405u);
  EXPECT_EQ(error_of(responses[0]).at("code"), "method_not_allowed");
  ASSERT_EQ(responses[0].headers.size(), 1u);
  EXPECT_EQ(responses[0].headers[0].first, "Allow");
  EXPECT_EQ(responses[0].headers[0].second, "GET, POST");
}

TEST(Router, RejectsBadPatternsAndDuplicates) {
  Router router;
  const SyncHandler ok = [](const Request&) { return json_response(200, {}); };
  EXPECT_THROW(router.add_sync("GET", "no-slash", ok), std::invalid_argument);
  EXPECT_THROW(router.add_sync("GET", "/v1/x{id}", ok), std::invalid_argument);
  router.add_sync("GET", "/v1/x", ok);
  EXPECT_THROW(router.add_sync("GET", "/v1/x", ok), std::invalid_argument);
  EXPECT_NO_THROW(router.add_sync("POST", "/v1/x", ok));
}

TEST(Router, BadPercentEncodingInThePathIs400) {
  Router router;
  router.add_sync("GET", "/v1/jobs/{id}", [](const Request&) { return json_response(200, {}); });
  const auto responses = dispatch(router, "GET", "/v1/jobs/%zz");
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 400u);
}

struct ThrownCase {
  std::function<void()> thrower;
  unsigned status;
  std::string code;
};

TEST(Router, MapsEveryKindOfExceptionToItsError) {
  const std::vector<ThrownCase> cases = {
      {[] { throw ApiError(ErrorCode::kLeaseLost, "the lease moved on"); }, 409, "lease_lost"},
      {[] { throw InputError("batch must be positive"); }, 400, "bad_request"},
      {[] { [[maybe_unused]] auto parsed = nlohmann::json::parse("{not json"); }, 400,
       "invalid_json"},
      {[] { (void)nlohmann::json::object().at("missing"); }, 400, "invalid_json"},
      {[] { throw std::runtime_error("database is locked at /secret/path"); }, 500, "internal"},
      {[] { throw 42; }, 500, "internal"},
  };
  for (const ThrownCase& thrown : cases) {
    Router router;
    router.add_sync("POST", "/v1/x", [&thrown](const Request&) -> Response {
      thrown.thrower();
      return json_response(200, {});
    });
    const auto responses = dispatch(router, "POST", "/v1/x");
    ASSERT_EQ(responses.size(), 1u) << thrown.code;
    EXPECT_EQ(responses[0].status, thrown.status) << thrown.code;
    const nlohmann::json error = error_of(responses[0]);
    EXPECT_EQ(error.at("code"), thrown.code);
    // Internal details stay in the log.
    EXPECT_EQ(error.at("message").get<std::string>().find("/secret/path"), std::string::npos);
  }
}

TEST(Router, AsyncHandlerThatThrowsAfterSendingKeepsTheFirstAnswer) {
  Router router;
  router.add("GET", "/v1/x", [](Request, Responder responder) {
    responder.send(json_response(200, "first"));
    throw std::runtime_error("late failure");
  });
  const auto responses = dispatch(router, "GET", "/v1/x");
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200u);
}

TEST(Responder, OnlyTheFirstSendCounts) {
  int calls = 0;
  Responder responder([&calls](Response) { ++calls; });
  Responder copy = responder;
  EXPECT_FALSE(copy.sent());
  responder.send(json_response(200, {}));
  copy.send(json_response(500, {}));
  EXPECT_TRUE(copy.sent());
  EXPECT_EQ(calls, 1);
}

TEST(Responder, DroppedWithoutSendAnswers500) {
  std::vector<Response> sent;
  {
    Responder responder([&sent](Response response) { sent.push_back(std::move(response)); });
    Responder copy = responder;  // the last copy going away is what counts
  }
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, 500u);
  EXPECT_EQ(error_of(sent[0]).at("code"), "internal");
}

TEST(Responder, ConcurrentSendsDeliverExactlyOnce) {
  std::atomic<int> calls{0};
  Responder responder([&calls](Response) { calls.fetch_add(1); });
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([responder] { responder.send(json_response(200, {})); });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(calls.load(), 1);
}

TEST(ErrorResponseFor, MapsLikeTheRouterForAsyncHandlers) {
  try {
    throw ApiError(ErrorCode::kUnknownJob, "job 7 does not exist");
  } catch (...) {
    const Response response = error_response_for(std::current_exception());
    EXPECT_EQ(response.status, 404u);
    EXPECT_EQ(error_of(response).at("code"), "unknown_job");
  }
  EXPECT_EQ(error_response_for(nullptr).status, 500u);
}

TEST(Url, PercentDecodes) {
  EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_THROW(percent_decode("%"), InputError);
  EXPECT_THROW(percent_decode("%4"), InputError);
  EXPECT_THROW(percent_decode("%g0"), InputError);
}

TEST(Url, ParsesQueries) {
  const auto query = parse_query("state=queued&name=vit%20tiny&flag&&x=1&x=2&sp=a+b");
  EXPECT_EQ(query.at("state"), "queued");
  EXPECT_EQ(query.at("name"), "vit tiny");
  EXPECT_EQ(query.at("flag"), "");
  EXPECT_EQ(query.at("x"), "2");
  EXPECT_EQ(query.at("sp"), "a b");
  EXPECT_EQ(query.size(), 5u);
  EXPECT_TRUE(parse_query("").empty());
}

TEST(Url, SplitsTargets) {
  const SplitTarget target = split_target("/v1/jobs?state=queued#frag");
  EXPECT_EQ(target.path, "/v1/jobs");
  EXPECT_EQ(target.query, "state=queued");
  EXPECT_EQ(split_target("/v1").query, "");
  EXPECT_THROW(split_target("http://host/v1"), InputError);
  EXPECT_THROW(split_target("*"), InputError);
}

TEST(Url, ExtractsBearerTokens) {
  EXPECT_EQ(bearer_token("Bearer abc.def"), "abc.def");
  EXPECT_EQ(bearer_token("bearer   abc  "), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_EQ(bearer_token("Bearer"), "");
  EXPECT_EQ(bearer_token("Bearerabc"), "");
  EXPECT_EQ(bearer_token(""), "");
}

}  // namespace
}  // namespace tailsweep::http
