#pragma once
// The coordinator's HTTP/1.1 server (Boost.Beast on Asio, optional TLS) in
// front of one Router. Beast and Asio stay in the .cpp files (pimpl), so code
// that starts a server compiles fast.
//
// Threading: io_threads run the network (one strand per connection);
// handlers run on a separate pool of worker_threads, so blocking work (SQLite)
// never stalls the network, and a Responder posts the answer back to its
// connection's strand from whichever thread sends it.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "coordinator/http/router.h"

namespace tailsweep::http {

struct TlsFiles {
  std::string certificate_chain_pem;  // path: the server certificate, then intermediates
  std::string private_key_pem;        // path
};

// Bodies this small are outside the buffered-body budget: leases,
// heartbeats, registrations, failures and small results always get through
// (connections x this bounds them), so clients holding the budget with large
// bodies cannot stop the agents' traffic, only delay their large results.
inline constexpr std::size_t kUnbudgetedBodyBytes = 64 * 1024;

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port; read it back with Server::port()
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  // What all connections together may hold of request bodies being read or
  // handled: each request with a body over kUnbudgetedBodyBytes reserves its
  // Content-Length (a chunked one, the body limit) once its header is in,
  // before the token is checked, so that a crowd of clients announcing large
  // bodies cannot take the memory. One that does not fit is answered 503
  // too_many_bodies and closed. At least max_body_bytes.
  std::size_t max_buffered_body_bytes = 256 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  // A request (header and body) must arrive within this once the connection
  // opens or its first byte arrives; also bounds TLS handshakes and writes.
  std::chrono::seconds read_timeout{15};
  // How long a keep-alive connection may sit between requests.
  std::chrono::seconds idle_timeout{75};
  // On stop(), how long requests in flight (long-polls included) may still answer.
  std::chrono::seconds shutdown_grace{3};
  std::size_t max_connections = 4096;  // beyond it, new connections get 503 and are closed
  int io_threads = 1;
  int worker_threads = 2;
  std::optional<TlsFiles> tls;  // set: every connection is HTTPS
};

// A snapshot of the counters /metrics exposes.
struct ServerStats {
  uint64_t open_connections = 0;
  uint64_t buffered_body_bytes = 0;  // reserved by requests being read or handled
  uint64_t connections_total = 0;     // accepted and served
  uint64_t connections_rejected = 0;  // over max_connections
  uint64_t requests_total = 0;        // complete requests read (and malformed ones answered)
  std::array<uint64_t, 5> responses_by_class{};  // [0] = 1xx ... [4] = 5xx
};

class Server {
 public:
  // Binds and listens now (so port() is known before run()); throws
  // tailsweep::InputError when the address, port or TLS files cannot be used.
  Server(ServerOptions options, Router router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  // Serves on io_threads threads (this one included); returns after stop().
  void run();
  // Like run(), and SIGINT or SIGTERM calls stop().
  void run_until_signal();
  // Thread-safe and idempotent, callable before or during run(). Stops
  // accepting, closes idle connections, lets requests in flight answer for up
  // to shutdown_grace, then closes the rest, and run() returns.
  void stop();
  ServerStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tailsweep::http
