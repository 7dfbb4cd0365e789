// TLS end to end: `tailsweep serve --tls-cert --tls-key` with a certificate
// made at test time, a simulated agent that trusts it through --ca-cert
// doing a sweep, and one given the wrong CA, refused with a clear line.
#include <gmock/gmock.h>

#include "../coordinator/http/self_signed_cert.h"
#include "fleet_fixture.h"

namespace tailsweep::e2e {
namespace {

using ::testing::HasSubstr;

TEST_F(Fleet, ASweepRunsOverTlsAndAWrongCaIsRefusedWithAClearLine) {
  std::filesystem::create_directories(dir_ / "server");
  std::filesystem::create_directories(dir_ / "stranger");
  const testing::CertificateFiles server =
      testing::write_self_signed_certificate(dir_ / "server");
  const testing::CertificateFiles stranger =
      testing::write_self_signed_certificate(dir_ / "stranger");
  start_coordinator(0, {"--tls-cert", server.certificate_pem.string(), "--tls-key",
                        server.private_key_pem.string()});
  ASSERT_THAT(url_, ::testing::StartsWith("https://"));
  ca_cert_ = server.certificate_pem.string();

  ChildProcess& wrong = start_agent("wrong-ca", "sim:jetson-nano", "2",
                                    {"--ca-cert", stranger.certificate_pem.string()});
  start_agent("nano", "sim:jetson-nano", "2", {"--ca-cert", server.certificate_pem.string()});
  ASSERT_TRUE(eventually([&] { return devices_registered(1); }, 20s)) << logs();
  json spec = profile_sweep("tls", json::object(), "deit-tiny", "2,128,129,197", 1.0);
  spec["workloads"][0]["curves"]["precision"] = 0.05;
  const int64_t sweep = admin("POST", "/v1/sweeps", spec)["sweep_id"].get<int64_t>();
  ASSERT_TRUE(eventually([&] { return sweep_state(sweep) == "done"; }, 60s)) << logs();
  EXPECT_EQ(sql_count("SELECT count(*) FROM curve_points"), 4);

  // The agent with the wrong CA never registered, and says why.
  EXPECT_EQ(sql_count("SELECT count(*) FROM devices WHERE name LIKE '%wrong-ca%'"), 0);
  ASSERT_TRUE(eventually(
      [&] {
        return testing::slurp(wrong.log()).find("certificate") != std::string::npos;
      },
      20s))
      << logs();
  EXPECT_THAT(testing::slurp(wrong.log()), HasSubstr("--ca-cert"));

  // A plain-HTTP client against the TLS server gets no answer it could take
  // for one; an admin without the CA is refused by its own verification.
  ca_cert_.clear();
  EXPECT_THROW(call("GET", "/v1/devices", ""), TransportError);
}

}  // namespace
}  // namespace tailsweep::e2e
