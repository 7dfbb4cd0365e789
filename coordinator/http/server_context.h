#pragma once
// Internal to coordinator/http: the state a Server shares with its
// connections. Includes Asio, so only this folder's .cpp files include it.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "coordinator/http/router.h"
#include "coordinator/http/server.h"

namespace tailsweep::http::detail {

// What the server may ask of a connection from any thread.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Close now if waiting for a request; otherwise close after the response in flight.
  virtual void notify_stopping() = 0;
  // Close now, whatever it is doing (the shutdown grace period is over).
  virtual void force_close() = 0;
};

// The live connections. It holds the only lasting strong reference to a
// session that waits on a handler, so a Responder kept by a handler holds just
// a weak one and may outlive the server harmlessly.
class SessionRegistry {
 public:
  void add(std::shared_ptr<SessionBase> session);
  void remove(const SessionBase* session);
  std::vector<std::shared_ptr<SessionBase>> snapshot() const;
  std::size_t size() const;
  void clear();

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const SessionBase*, std::shared_ptr<SessionBase>> sessions_;
};

struct ServerCounters {
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> connections_rejected{0};
  std::atomic<uint64_t> requests_total{0};
  std::array<std::atomic<uint64_t>, 5> responses_by_class{};  // 1xx .. 5xx

  void count_response(unsigned status) {
    if (status >= 100 && status <= 599) responses_by_class[status / 100 - 1].fetch_add(1);
  }
};

struct ServerContext {
  ServerContext(const ServerOptions& options_in, const Router& router_in,
                boost::asio::thread_pool& workers_in)
      : options(options_in), router(router_in), workers(workers_in) {}

  const ServerOptions& options;
  const Router& router;
  boost::asio::thread_pool& workers;
  boost::asio::ssl::context* tls = nullptr;  // null: plain HTTP
  ServerCounters counters;
  SessionRegistry sessions;
  std::atomic<bool> stopping{false};
  // Bytes reserved by the requests being read or handled (max_buffered_body_bytes).
  std::atomic<std::size_t> buffered_body_bytes{0};
};

// Starts serving an accepted connection (plain or TLS by context.tls) and
// registers it in context.sessions.
void start_session(boost::asio::ip::tcp::socket socket, ServerContext& context);

}  // namespace tailsweep::http::detail
