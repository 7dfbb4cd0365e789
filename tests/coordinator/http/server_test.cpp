// The real server on 127.0.0.1, driven by the libcurl client and by raw
// sockets for what a polite client never sends. No assertions on speed: waits
// are generous upper bounds, since the test machine may be busy.
#include "coordinator/http/server.h"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "common/util/errors.h"
#include "common/util/http_client.h"
#include "test_server.h"

namespace tailsweep::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tailsweep::testing::eventually;
using tailsweep::testing::RawConnection;
using tailsweep::testing::RunningServer;
using tailsweep::testing::status_of;

nlohmann::json json_of(const HttpResult& result) { return nlohmann::json::parse(result.body); }
std::string error_code_of(const HttpResult& result) {
  return json_of(result).at("error").at("code");
}

HttpClient client_for(const RunningServer& server) {
  return HttpClient(ClientOptions{server.url(), "", milliseconds(5000), milliseconds(30'000)});
}

// Echoes what the server parsed, so tests see the Request a handler gets.
Router echo_router() {
  Router router;
  router.add_sync("POST", "/v1/jobs/{id}/result", [](const Request& request) {
    return json_response(200, {{"method", request.method},
                               {"path", request.path},
                               {"id", request.path_params.at("id")},
                               {"query", request.query},
                               {"body", request.body},
                               {"has_token", !request.bearer_token.empty()},
                               {"token_matches", request.bearer_token == "agent-token-1"},
                               {"remote", request.remote_address}});
  });
  router.add_sync("GET", "/ping", [](const Request&) { return json_response(200, "pong"); });
  return router;
}

// A handler that keeps its Responder to answer later, like the lease long-poll.
struct ParkedResponders {
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<Responder> parked;

  void park(Responder responder) {
    {
      const std::lock_guard lock(mutex);
      parked.push_back(std::move(responder));
    }
    arrived.notify_all();
  }
  bool wait_for(std::size_t count, milliseconds limit = milliseconds(20'000)) {
    std::unique_lock lock(mutex);
    return arrived.wait_for(lock, limit, [&] { return parked.size() >= count; });
  }
};

TEST(HttpServer, RoutesWithPathParamsQueryBodyAndToken) {
  RunningServer server(echo_router());
  HttpClient client = client_for(server);
  const HttpResult result = client.request("POST", "/v1/jobs/job%2F7/result?x=1%202&flag",
                                           R"({"ok":true})", "agent-token-1");
  ASSERT_EQ(result.status, 200) << result.body;
  const nlohmann::json echoed = json_of(result);
  EXPECT_EQ(echoed.at("method"), "POST");
  EXPECT_EQ(echoed.at("path"), "/v1/jobs/job%2F7/result");
  EXPECT_EQ(echoed.at("id"), "job/7");
  EXPECT_EQ(echoed.at("query"), (nlohmann::json{{"x", "1 2"}, {"flag", ""}}));
  EXPECT_EQ(echoed.at("body"), R"({"ok":true})");
  EXPECT_EQ(echoed.at("token_matches"), true);
  EXPECT_EQ(echoed.at("remote"), "127.0.0.1");
}

TEST(HttpServer, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  RunningServer server(echo_router());
  HttpClient client = client_for(server);
  const HttpResult missing = client.request("GET", "/v1/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_code_of(missing), "not_found");

  RawConnection connection(server.port());
  connection.send("DELETE /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string response = connection.read_response();
  EXPECT_EQ(status_of(response), 405);
  EXPECT_NE(response.find("\r\nAllow: GET\r\n"), std::string::npos) << response;
  EXPECT_NE(response.find("method_not_allowed"), std::string::npos);
}

TEST(HttpServer, EveryResponseHasContentTypeAndLength) {
  RunningServer server(echo_router());
  RawConnection connection(server.port());
  connection.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 2; ++i) {
    const std::string response = connection.read_response();
    EXPECT_NE(response.find("\r\nContent-Type: application/json\r\n"), std::string::npos)
        << response;
    EXPECT_NE(response.find("\r\nContent-Length: "), std::string::npos) << response;
  }
}

TEST(HttpServer, ThrowingHandlersGetTheirErrorAndTheServerKeepsServing) {
  Router router = echo_router();
  router.add_sync("GET", "/api", [](const Request&) -> Response {
    throw ApiError(ErrorCode::kLeaseLost, "the lease moved on");
  });
  router.add_sync("GET", "/input", [](const Request&) -> Response { throw InputError("no"); });
  router.add_sync("POST", "/json", [](const Request& request) -> Response {
    return json_response(200, nlohmann::json::parse(request.body));
  });
  router.add_sync("GET", "/bug",
                  [](const Request&) -> Response { throw std::logic_error("invariant broken"); });
  router.add_sync("GET", "/weird", [](const Request&) -> Response { throw 7; });
  RunningServer server(std::move(router));
  HttpClient client = client_for(server);

  const HttpResult api = client.request("GET", "/api");
  EXPECT_EQ(api.status, 409);
  EXPECT_EQ(error_code_of(api), "lease_lost");
  EXPECT_EQ(json_of(api).at("error").at("message"), "the lease moved on");
  const HttpResult input = client.request("GET", "/input");
  EXPECT_EQ(input.status, 400);
  EXPECT_EQ(error_code_of(input), "bad_request");
  const HttpResult json = client.request("POST", "/json", "{broken");
  EXPECT_EQ(json.status, 400);
  EXPECT_EQ(error_code_of(json), "invalid_json");
  for (const char* path : {"/bug", "/weird"}) {
    const HttpResult internal = client.request("GET", path);
    EXPECT_EQ(internal.status, 500) << path;
    EXPECT_EQ(error_code_of(internal), "internal");
    EXPECT_EQ(internal.body.find("invariant"), std::string::npos);
  }
  EXPECT_EQ(client.request("GET", "/ping").status, 200);
}

TEST(HttpServer, DroppedResponderAnswers500) {
  Router router;
  router.add("GET", "/forgetful", [](Request, Responder) { /* never answers */ });
  RunningServer server(std::move(router));
  HttpClient client = client_for(server);
  const HttpResult result = client.request("GET", "/forgetful");
  EXPECT_EQ(result.status, 500);
  EXPECT_EQ(error_code_of(result), "internal");
}

TEST(HttpServer, AsyncHandlerAnswersLaterFromAnotherThreadWithoutHoldingAWorker) {
  auto parked = std::make_shared<ParkedResponders>();
  Router router = echo_router();
  router.add("GET", "/v1/lease",
             [parked](Request, Responder responder) { parked->park(std::move(responder)); });
  ServerOptions options;
  options.worker_threads = 1;  // a parked long-poll must not hold the only worker
  RunningServer server(std::move(router), options);

  std::optional<HttpResult> long_poll;
  std::thread poller([&] {
    HttpClient client = client_for(server);
    long_poll = client.request("GET", "/v1/lease");
  });
  ASSERT_TRUE(parked->wait_for(1));
  HttpClient other = client_for(server);
  EXPECT_EQ(other.request("GET", "/ping").status, 200);

  std::thread answerer([parked] { parked->parked.front().send(json_response(200, {{"job", 7}})); });
  answerer.join();
  poller.join();
  ASSERT_TRUE(long_poll.has_value());
  EXPECT_EQ(long_poll->status, 200);
  EXPECT_EQ(json_of(*long_poll).at("job"), 7);
}

TEST(HttpServer, BodyOverTheLimitIs413AndTheServerKeepsServing) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  RunningServer server(echo_router(), options);
  HttpClient client = client_for(server);

  const HttpResult too_big =
      client.request("POST", "/v1/jobs/1/result", std::string(64 * 1024, 'x'));
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(error_code_of(too_big), "body_too_large");

  // Declared too large in the header: answered before any body is sent.
  RawConnection connection(server.port());
  connection.send(
      "POST /v1/jobs/1/result HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n");
  const auto answer = connection.read_until_closed();
  EXPECT_EQ(status_of(answer.data), 413);
  EXPECT_TRUE(answer.closed);

  EXPECT_EQ(client.request("POST", "/v1/jobs/1/result", "small").status, 200);
}

// Clients that announce large bodies and send them slowly (before any token
// is looked at) hold memory only up to the server's budget: past it, 503;
// small bodies pass regardless. A budget below one largest body is refused.
TEST(HttpServer, BodiesInFlightShareOneBudgetAndItsShareReturnsWithTheAnswer) {
  ServerOptions options;
  options.max_body_bytes = 100'000;
  options.max_buffered_body_bytes = 250'000;  // two 100 kB bodies fit, a third does not
  RunningServer server(echo_router(), options);
  const std::string header =
      "POST /v1/jobs/1/result HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
  RawConnection first(server.port());
  RawConnection second(server.port());
  ASSERT_TRUE(first.send(header + "partial"));
  ASSERT_TRUE(second.send(header + "partial"));
  // Both headers read, their bodies pending.
  ASSERT_TRUE(eventually([&] { return server.server().stats().buffered_body_bytes == 200'000; }));
  RawConnection third(server.port());
  third.send(header);
  const auto refused = third.read_until_closed();
  EXPECT_EQ(status_of(refused.data), 503) << refused.data;
  EXPECT_NE(refused.data.find("too_many_bodies"), std::string::npos);
  EXPECT_TRUE(refused.closed);
  // Small bodies (an agent's lease, heartbeat, most results) are outside the
  // budget: they still pass; one over 64 KiB does not fit.
  HttpClient client = client_for(server);
  EXPECT_EQ(client.request("GET", "/ping").status, 200);
  EXPECT_EQ(client.request("POST", "/v1/jobs/1/result", std::string(60'000, 'x')).status, 200);
  EXPECT_EQ(client.request("POST", "/v1/jobs/1/result", std::string(70'000, 'x')).status, 503);
  // One body finished and answered, one left: its share came back.
  ASSERT_TRUE(first.send(std::string(100'000 - 7, 'x')));
  EXPECT_EQ(status_of(first.read_response()), 200);
  // A share is given back once the answer is written, which the client can
  // see a moment before the server's write handler runs.
  const auto only_the_seconds_share = [&] {
    return server.server().stats().buffered_body_bytes == 100'000;
  };
  ASSERT_TRUE(eventually(only_the_seconds_share)) << server.server().stats().buffered_body_bytes;
  EXPECT_EQ(client.request("POST", "/v1/jobs/1/result", std::string(70'000, 'x')).status, 200);
  EXPECT_TRUE(eventually(only_the_seconds_share)) << server.server().stats().buffered_body_bytes;
  // A client that leaves mid-body returns its share too.
  second.close();
  EXPECT_TRUE(eventually([&] { return server.server().stats().buffered_body_bytes == 0; }));

  ServerOptions too_small;
  too_small.max_body_bytes = 1000;
  too_small.max_buffered_body_bytes = 999;
  EXPECT_THROW(Server(too_small, echo_router()), InputError);
}

TEST(HttpServer, ExpectContinueGetsA100BeforeTheBody) {
  RunningServer server(echo_router());
  RawConnection connection(server.port());
  connection.send(
      "POST /v1/jobs/1/result HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: "
      "5\r\n\r\n");
  const std::string interim = connection.read_response();
  EXPECT_EQ(status_of(interim), 100) << interim;
  connection.send("hello");
  const std::string response = connection.read_response();
  EXPECT_EQ(status_of(response), 200) << response;
  EXPECT_NE(response.find("hello"), std::string::npos);
}

TEST(HttpServer, HeaderOverTheLimitIs431) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  RunningServer server(echo_router(), options);
  RawConnection connection(server.port());
  connection.send("GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n");
  const auto answer = connection.read_until_closed();
  EXPECT_EQ(status_of(answer.data), 431) << answer.data;
  EXPECT_NE(answer.data.find("headers_too_large"), std::string::npos);
  EXPECT_TRUE(answer.closed);
}

// A chunked body's trailer is header fields after the body: it counts
// against the header limit. Before, Beast buffered any trailer whole, and a
// field over 64 KiB threw out of the I/O loop and ended the server.
TEST(HttpServer, ChunkedTrailerOverTheHeaderLimitIs431AndTheServerKeepsServing) {
  RunningServer server(echo_router());  // the default 16 KiB header limit
  for (const std::size_t field_bytes : {std::size_t{30'000}, std::size_t{65'600}}) {
    RawConnection connection(server.port());
    connection.send(
        "GET /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\nX: " +
        std::string(field_bytes, 'a') + "\r\n\r\n");
    const auto answer = connection.read_until_closed();
    EXPECT_EQ(status_of(answer.data), 431) << field_bytes << ": " << answer.data;
    EXPECT_NE(answer.data.find("headers_too_large"), std::string::npos) << answer.data;
  }
  // A trailer that never ends is cut off at the limit, not buffered.
  RawConnection endless(server.port());
  endless.send(
      "POST /v1/jobs/1/result HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\nX: ");
  for (int i = 0; i < 64 && endless.send(std::string(4096, 'b')); ++i) {
  }
  EXPECT_EQ(status_of(endless.read_until_closed().data), 431);

  // A small trailer is legal HTTP/1.1 and the request is served.
  RawConnection polite(server.port());
  polite.send(
      "POST /v1/jobs/7/result HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n");
  const std::string response = polite.read_response();
  EXPECT_EQ(status_of(response), 200) << response;
  EXPECT_NE(response.find("hello"), std::string::npos);

  HttpClient client = client_for(server);
  EXPECT_EQ(client.request("GET", "/ping").status, 200);
}

TEST(HttpServer, MalformedRequestsGet400AndAClosedConnection) {
  RunningServer server(echo_router());
  for (const char* garbage : {"GARBAGE\r\n\r\n", "GET /ping HTTP/9.9\r\n\r\n",
                              "GET /ping HTTP/1.1\r\nBad Header Line\r\n\r\n",
                              "POST /v1/jobs/1/result HTTP/1.1\r\nContent-Length: nope\r\n\r\n"}) {
    RawConnection connection(server.port());
    connection.send(garbage);
    const auto answer = connection.read_until_closed();
    EXPECT_EQ(status_of(answer.data), 400) << garbage << " -> " << answer.data;
    EXPECT_NE(answer.data.find("malformed_request"), std::string::npos) << answer.data;
    EXPECT_TRUE(answer.closed) << garbage;
  }
  RawConnection bad_target(server.port());
  bad_target.send("GET http://elsewhere/x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(bad_target.read_response()), 400);
  HttpClient client = client_for(server);
  EXPECT_EQ(client.request("GET", "/ping").status, 200);
}

TEST(HttpServer, SilentAndSlowConnectionsAreClosedAfterTheReadTimeout) {
  ServerOptions options;
  options.read_timeout = seconds(1);
  RunningServer server(echo_router(), options);

  RawConnection silent(server.port());
  const auto nothing = silent.read_until_closed(seconds(30));
  EXPECT_TRUE(nothing.closed);
  EXPECT_TRUE(nothing.data.empty());

  RawConnection slow(server.port());
  slow.send("GET /ping HTTP/1.1\r\nHost: x\r\n");  // never finishes its header
  EXPECT_TRUE(slow.read_until_closed(seconds(30)).closed);
  EXPECT_TRUE(eventually([&] { return server.server().stats().open_connections == 0; }));
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  RunningServer server(echo_router());
  HttpClient client = client_for(server);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.request("GET", "/ping").status, 200);
  EXPECT_EQ(client.request("GET", "/nope").status, 404);
  EXPECT_EQ(client.request("POST", "/v1/jobs/2/result", "{}").status, 200);
  const ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.connections_total, 1u);
  EXPECT_EQ(stats.requests_total, 7u);
  EXPECT_EQ(stats.responses_by_class[1], 6u);  // 2xx
  EXPECT_EQ(stats.responses_by_class[3], 1u);  // 4xx
}

TEST(HttpServer, ConcurrentClientsOnSeveralIoThreads) {
  ServerOptions options;
  options.io_threads = 2;
  options.worker_threads = 2;
  RunningServer server(echo_router(), options);
  constexpr int kClients = 4;
  constexpr int kRequestsEach = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&server, &ok, c] {
      HttpClient client = client_for(server);
      for (int i = 0; i < kRequestsEach; ++i) {
        const std::string body = std::to_string(c * 1000 + i);
        const HttpResult result = client.request("POST", "/v1/jobs/x/result", body);
        if (result.status == 200 && json_of(result).at("body") == body) ok.fetch_add(1);
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(ok.load(), kClients * kRequestsEach);
  EXPECT_EQ(server.server().stats().requests_total, uint64_t{kClients * kRequestsEach});
}

TEST(HttpServer, ConnectionCapRejectsExtraConnectionsAndRecovers) {
  ServerOptions options;
  options.max_connections = 2;
  RunningServer server(echo_router(), options);
  auto first = std::make_unique<RawConnection>(server.port());
  RawConnection second(server.port());
  ASSERT_TRUE(eventually([&] { return server.server().stats().open_connections == 2; }));

  RawConnection third(server.port());
  const auto rejected = third.read_until_closed();
  EXPECT_TRUE(rejected.closed);
  if (!rejected.data.empty()) {  // answered when the socket took it at once
    EXPECT_EQ(status_of(rejected.data), 503) << rejected.data;
  }
  EXPECT_TRUE(eventually([&] { return server.server().stats().connections_rejected >= 1; }));

  first.reset();
  ASSERT_TRUE(eventually([&] { return server.server().stats().open_connections < 2; }));
  HttpClient client = client_for(server);
  EXPECT_EQ(client.request("GET", "/ping").status, 200);
}

TEST(HttpServer, StopWithALongPollPendingReturnsAndAnswersOrCloses) {
  auto parked = std::make_shared<ParkedResponders>();
  Router router = echo_router();
  router.add("GET", "/v1/lease",
             [parked](Request, Responder responder) { parked->park(std::move(responder)); });
  ServerOptions options;
  options.shutdown_grace = seconds(1);
  auto server = std::make_unique<RunningServer>(std::move(router), options);
  const std::string url = server->url();

  RawConnection idle_keep_alive(server->port());
  std::atomic<bool> poll_finished{false};
  std::thread poller([&] {
    HttpClient client(ClientOptions{url, "", milliseconds(5000), milliseconds(60'000)});
    try {
      client.request("GET", "/v1/lease");  // any status is fine
    } catch (const TransportError&) {
      // a closed connection is fine too
    }
    poll_finished = true;
  });
  ASSERT_TRUE(parked->wait_for(1));

  server->stop();  // returns only once run() has returned
  // The long-poll ends because the server answered or closed it within the
  // grace, not because the test waited: checked before the join.
  EXPECT_TRUE(eventually([&] { return poll_finished.load(); }, seconds(10)));
  poller.join();
  EXPECT_TRUE(idle_keep_alive.read_until_closed().closed);

  // A handler answering after the stop, or after the server is gone, is harmless.
  parked->parked.front().send(json_response(200, "late"));
  server.reset();
  parked->parked.clear();
}

TEST(HttpServer, StopBeforeRunMakesRunReturn) {
  Server server(ServerOptions{}, echo_router());
  EXPECT_NE(server.port(), 0);
  server.stop();
  server.run();  // returns at once
}

TEST(HttpServer, RunUntilSignalStopsOnSigterm) {
  Server server(ServerOptions{}, echo_router());
  std::thread runner([&server] { server.run_until_signal(); });
  // Once a request is answered, the signal handler is installed (it is set up
  // before the first accept), so SIGTERM reaches it instead of ending the test.
  HttpClient client(ClientOptions{"http://127.0.0.1:" + std::to_string(server.port()), "",
                                  milliseconds(5000), milliseconds(30'000)});
  ASSERT_EQ(client.request("GET", "/ping").status, 200);
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  runner.join();  // returns: the signal called stop()
}

TEST(HttpServer, BadAddressIsAnInputError) {
  ServerOptions options;
  options.address = "not-an-ip";
  EXPECT_THROW(Server(options, Router()), InputError);
}

TEST(HttpClient, RefusedPortIsATransportErrorWithoutTheToken) {
  uint16_t closed_port = 0;
  {
    // Take an ephemeral port and let it go: nothing listens there now.
    Server server(ServerOptions{}, Router());
    closed_port = server.port();
  }
  HttpClient client(ClientOptions{"http://127.0.0.1:" + std::to_string(closed_port), "",
                                  milliseconds(5000), milliseconds(5000)});
  try {
    client.request("GET", "/v1/ping", {}, "very-secret-token");
    FAIL() << "expected a TransportError";
  } catch (const TransportError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("127.0.0.1:" + std::to_string(closed_port) + "/v1/ping"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find("very-secret-token"), std::string::npos);
    EXPECT_FALSE(error.timed_out());
  }
}

}  // namespace
}  // namespace tailsweep::http
