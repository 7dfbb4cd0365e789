// HTTPS with a self-signed certificate generated at test time: the client
// verifies it with ca_cert_file, and refuses it without.
#include <gtest/gtest.h>

#include "../../support/temp_dir.h"
#include "common/util/errors.h"
#include "common/util/http_client.h"
#include "coordinator/http/server.h"
#include "self_signed_cert.h"
#include "test_server.h"

namespace tailsweep::http {
namespace {

using std::chrono::milliseconds;
using tailsweep::testing::RawConnection;
using tailsweep::testing::RunningServer;

Router ping_router() {
  Router router;
  router.add_sync("POST", "/v1/echo", [](const Request& request) {
    return json_response(200, {{"body", request.body}, {"token", request.bearer_token == "t0k"}});
  });
  return router;
}

class HttpsServer : public ::testing::Test {
 protected:
  HttpsServer() : files_(tailsweep::testing::write_self_signed_certificate(folder_.path())) {}

  ServerOptions tls_options() const {
    ServerOptions options;
    options.tls = TlsFiles{files_.certificate_pem.string(), files_.private_key_pem.string()};
    options.read_timeout = std::chrono::seconds(2);
    return options;
  }

  tailsweep::testing::TempDir folder_{"tailsweep-tls"};
  tailsweep::testing::CertificateFiles files_;
};

TEST_F(HttpsServer, ClientWithTheCaFileTalksHttpsOnKeptAliveConnection) {
  RunningServer server(ping_router(), tls_options());
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  HttpClient client(ClientOptions{url, files_.certificate_pem.string(), milliseconds(5000),
                                  milliseconds(30'000)});
  for (int i = 0; i < 3; ++i) {
    const HttpResult result = client.request("POST", "/v1/echo", R"({"n":1})", "t0k");
    ASSERT_EQ(result.status, 200) << result.body;
    EXPECT_EQ(nlohmann::json::parse(result.body),
              (nlohmann::json{{"body", R"({"n":1})"}, {"token", true}}));
  }
  EXPECT_EQ(client.request("GET", "/missing").status, 404);
  EXPECT_EQ(server.server().stats().connections_total, 1u);
}

TEST_F(HttpsServer, ClientWithoutTheCaFileRefusesTheCertificate) {
  RunningServer server(ping_router(), tls_options());
  HttpClient client(ClientOptions{"https://127.0.0.1:" + std::to_string(server.port()), "",
                                  milliseconds(5000), milliseconds(30'000)});
  EXPECT_THROW(client.request("POST", "/v1/echo", "{}"), TransportError);
}

TEST_F(HttpsServer, PlainHttpToTheTlsPortGetsNoHttpAnswer) {
  RunningServer server(ping_router(), tls_options());
  HttpClient client(ClientOptions{"http://127.0.0.1:" + std::to_string(server.port()), "",
                                  milliseconds(5000), milliseconds(30'000)});
  EXPECT_THROW(client.request("POST", "/v1/echo", "{}"), TransportError);
}

TEST_F(HttpsServer, SilentClientIsDroppedAfterTheHandshakeTimeout) {
  RunningServer server(ping_router(), tls_options());
  RawConnection silent(server.port());
  EXPECT_TRUE(silent.read_until_closed(std::chrono::seconds(30)).closed);
}

TEST_F(HttpsServer, MissingCertificateFileIsAnInputError) {
  ServerOptions options = tls_options();
  options.tls->certificate_chain_pem = (folder_.path() / "absent.pem").string();
  EXPECT_THROW(Server(options, Router()), InputError);
}

}  // namespace
}  // namespace tailsweep::http
