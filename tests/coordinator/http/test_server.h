#pragma once
// Test helpers: a real Server on 127.0.0.1 (ephemeral port) run on its own
// thread for the length of a test (RAII); raw connections come from
// tests/support/raw_connection.h.
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "../../support/raw_connection.h"
#include "coordinator/http/server.h"

namespace tailsweep::testing {

class RunningServer {
 public:
  explicit RunningServer(http::Router router, http::ServerOptions options = {})
      : server_(std::move(options), std::move(router)), thread_([this] { server_.run(); }) {}
  ~RunningServer() { stop(); }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  // Stops the server and waits for run() to return.
  void stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }

  http::Server& server() { return server_; }
  uint16_t port() const { return server_.port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }

 private:
  http::Server server_;
  std::thread thread_;
};

// Polls a condition for up to `limit` (the machine may be slow; tests never
// assert on speed, only that things happen eventually).
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace tailsweep::testing
