// Raw bytes against the real coordinator: `tailsweep serve`'s HTTP server,
// route table and service over a scratch SQLite database, in this process.
// Each input is sent on a fresh loopback connection, the write side is
// closed, and the answer read until the server closes. A crash, a sanitizer
// report or an answer that never comes (libFuzzer's -timeout) is a finding.
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "../../tests/support/raw_connection.h"
#include "coordinator/http/server.h"
#include "coordinator/service/coordinator_service.h"
#include "coordinator/store/store.h"

namespace {

using namespace tailsweep;

// The tokens the seed corpus uses, so the fuzzer reaches the routes behind them.
constexpr const char* kEnrollToken = "fuzz-enroll";
constexpr const char* kAdminToken = "fuzz-admin";

class Coordinator {
 public:
  Coordinator() {
    char folder[] = "/tmp/tailsweep-fuzz-XXXXXX";
    if (::mkdtemp(folder) == nullptr) std::abort();
    folder_ = folder;
    // The scratch database goes with the process (open files stay readable
    // to the threads still running while it exits).
    static std::string scratch;
    scratch = folder_;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratch, ignored);
    });
    const std::string db = folder_ + "/fuzz.db";
    store::Store::migrate(db);
    coordinator::CoordinatorOptions options;
    options.db_path = db;
    options.enroll_token = kEnrollToken;
    options.admin_token = kAdminToken;
    // Small enough that no input can keep one exec busy for long.
    options.sql_timeout = std::chrono::milliseconds(200);
    options.sql_max_rows = 1000;
    options.sql_max_bytes = 1 << 20;
    options.max_sweep_jobs = 200;
    service_ = std::make_unique<coordinator::CoordinatorService>(options);
    http::ServerOptions server_options;
    server_options.read_timeout = std::chrono::seconds(2);
    server_options.max_body_bytes = 1 << 20;
    server_ = std::make_unique<http::Server>(server_options, service_->router());
    service_->set_server_stats([this] { return server_->stats(); });
    thread_ = std::thread([this] { server_->run(); });
  }
  // Lives as long as the process: libFuzzer ends with exit(), and a server
  // stopped from a static destructor would race the threads still running.
  uint16_t port() const { return server_->port(); }

 private:
  std::string folder_;
  std::unique_ptr<coordinator::CoordinatorService> service_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

std::size_t content_length(std::string_view header) {
  std::string lower(header);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t at = lower.find("\r\ncontent-length:");
  return at == std::string::npos ? 0 : std::strtoul(lower.c_str() + at + 17, nullptr, 10);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static Coordinator* coordinator = new Coordinator();  // never destroyed: see above
  testing::RawConnection connection(coordinator->port());
  connection.send(std::string_view(reinterpret_cast<const char*>(data), size));
  connection.shutdown_write();
  // A long-poll (wait_s) answers within its own wait; everything else at once.
  const auto answer = connection.read_until_closed(std::chrono::seconds(70));
  if (!answer.closed) {
    std::fputs("finding: the server kept the connection open after end-of-stream\n", stderr);
    std::abort();
  }
  // 500 means an exception no handler expected: input reached a path
  // without its own check. It is a finding too. The answers are walked by
  // their Content-Length, since a body may quote the request.
  std::size_t at = 0;
  while (at < answer.data.size()) {
    const std::string_view rest = std::string_view(answer.data).substr(at);
    if (testing::status_of(rest) == 500) {
      std::fputs(("finding: a 500 answer:\n" + std::string(rest.substr(0, 2000)) + "\n").c_str(),
                 stderr);
      std::abort();
    }
    const std::size_t header_end = rest.find("\r\n\r\n");
    if (header_end == std::string_view::npos) break;
    at += header_end + 4 + content_length(rest.substr(0, header_end));
  }
  return 0;
}
