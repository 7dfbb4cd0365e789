// The listener, the threads and the shutdown sequence. The accept loop, its
// retry timer, the drain timer and the signal set all live on one strand, so
// stop() needs no locks: it posts there.
#include "coordinator/http/server.h"

#include <csignal>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <fmt/core.h>

#include "common/util/errors.h"
#include "coordinator/http/server_context.h"

namespace tailsweep::http {

namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

namespace {

// After an accept error (EMFILE, ENFILE, ENOBUFS...) try again after a pause
// instead of spinning on an error that will repeat at once.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// How often stop() checks whether the connections have drained.
constexpr std::chrono::milliseconds kDrainPollInterval{20};

void log_line(const std::string& line) {
  std::fputs(("tailsweep http: " + line + "\n").c_str(), stderr);
}

std::string busy_response() {
  const std::string body = error_response(ErrorCode::kTooManyConnections,
                                          "the server is at its connection limit; retry later")
                               .body;
  return fmt::format(
      "HTTP/1.1 503 Service Unavailable\r\nServer: tailsweep\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{}",
      body.size(), body);
}

void validate(const ServerOptions& options) {
  if (options.io_threads < 1 || options.worker_threads < 1) {
    throw InputError("the HTTP server needs at least one I/O thread and one worker thread");
  }
  if (options.max_connections < 1) throw InputError("max_connections must be at least 1");
  if (options.max_buffered_body_bytes < options.max_body_bytes) {
    throw InputError(fmt::format(
        "the buffered body budget ({} bytes) must hold at least one body of the largest size "
        "({} bytes)",
        options.max_buffered_body_bytes, options.max_body_bytes));
  }
  if (options.read_timeout.count() <= 0 || options.idle_timeout.count() <= 0) {
    throw InputError("the HTTP read and idle timeouts must be positive");
  }
}

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, Router router)
      : options_(std::move(options)),
        router_(std::move(router)),
        // Binds a reference to workers_, which is built below; nothing uses it before.
        context_{options_, router_, workers_},
        accept_strand_(net::make_strand(io_context_)),
        acceptor_(accept_strand_),
        retry_timer_(accept_strand_),
        drain_timer_(accept_strand_),
        workers_(static_cast<std::size_t>(std::max(1, options_.worker_threads))) {
    validate(options_);
    if (options_.tls) {
      tls_context_.emplace(net::ssl::context::tls_server);
      load_tls_files(*options_.tls);
      context_.tls = &*tls_context_;
    }
    listen();
  }

  ~Impl() {
    stop();
    // run() has returned (or never ran), so no thread touches the sessions:
    // finish the handlers still running, then close what is left while the
    // io_context they belong to still exists.
    workers_.stop();
    workers_.join();
    context_.sessions.clear();
  }

  uint16_t port() const { return bound_port_; }

  void run(bool stop_on_signal) {
    {
      const std::lock_guard lock(run_mutex_);
      if (ran_) throw std::logic_error("Server::run() may be called once");
      ran_ = true;
    }
    // Held until the drain is over: a connection waiting on a long-poll has no
    // pending I/O, and the io_context must not return while it waits.
    work_guard_.emplace(io_context_.get_executor());
    net::post(accept_strand_, [this, stop_on_signal] {
      if (context_.stopping.load()) return;  // stop() came first
      if (stop_on_signal) wait_for_signals();
      accept_next();
    });
    std::vector<std::thread> extra_threads;
    for (int i = 1; i < options_.io_threads; ++i) {
      extra_threads.emplace_back([this] { serve_io(); });
    }
    serve_io();
    for (std::thread& thread : extra_threads) thread.join();
  }

  void stop() {
    net::post(accept_strand_, [this] { begin_stop(); });
  }

  ServerStats stats() const {
    ServerStats stats;
    stats.open_connections = context_.sessions.size();
    stats.buffered_body_bytes = context_.buffered_body_bytes.load();
    stats.connections_total = context_.counters.connections_total.load();
    stats.connections_rejected = context_.counters.connections_rejected.load();
    stats.requests_total = context_.counters.requests_total.load();
    for (std::size_t i = 0; i < stats.responses_by_class.size(); ++i) {
      stats.responses_by_class[i] = context_.counters.responses_by_class[i].load();
    }
    return stats;
  }

 private:
  // An exception that escapes a completion handler (thrown inside Beast's
  // parser, an allocation failure) unwinds out of run() on this thread only.
  // It ends the operation it came from; the server must go on serving every
  // other connection, so log it and run again (Asio allows this without
  // restart()). The connection it belonged to has lost its pending operation
  // and stays registered until shutdown closes it.
  void serve_io() {
    while (true) {
      try {
        io_context_.run();
        return;
      } catch (const std::exception& error) {
        log_line(fmt::format("a connection's handler failed ({}); serving on", error.what()));
      } catch (...) {
        log_line("a connection's handler failed (a non-standard exception); serving on");
      }
    }
  }

  void load_tls_files(const TlsFiles& files) {
    net::ssl::context& tls = *tls_context_;
    tls.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                    net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                    net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    boost::system::error_code ec;
    tls.use_certificate_chain_file(files.certificate_chain_pem, ec);
    if (ec) {
      throw InputError(fmt::format("cannot load the TLS certificate chain {}: {}",
                                   files.certificate_chain_pem, ec.message()));
    }
    tls.use_private_key_file(files.private_key_pem, net::ssl::context::pem, ec);
    if (ec) {
      throw InputError(fmt::format("cannot load the TLS private key {}: {}", files.private_key_pem,
                                   ec.message()));
    }
  }

  void listen() {
    boost::system::error_code ec;
    const net::ip::address address = net::ip::make_address(options_.address, ec);
    if (ec)
      throw InputError(fmt::format("\"{}\" is not an IP address to listen on", options_.address));
    const tcp::endpoint endpoint(address, options_.port);
    const auto fail = [&](std::string_view step) {
      throw InputError(
          fmt::format("cannot {} {}:{}: {}", step, options_.address, options_.port, ec.message()));
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) fail("open a socket for");
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (ec) fail("set SO_REUSEADDR for");
    acceptor_.bind(endpoint, ec);
    if (ec) fail("bind");
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) fail("listen on");
    bound_port_ = acceptor_.local_endpoint().port();
  }

  void wait_for_signals() {
    signals_.emplace(accept_strand_, SIGINT, SIGTERM);
    signals_->async_wait([this](const boost::system::error_code& ec, int signal_number) {
      if (ec) return;  // cancelled by stop()
      log_line(fmt::format("signal {}: shutting down", signal_number));
      begin_stop();
    });
  }

  void accept_next() {
    if (context_.stopping.load()) return;
    // Each connection gets its own strand.
    acceptor_.async_accept(net::make_strand(io_context_),
                           [this](const boost::system::error_code& ec, tcp::socket socket) {
                             on_accept(ec, std::move(socket));
                           });
  }

  void on_accept(const boost::system::error_code& ec, tcp::socket socket) {
    if (context_.stopping.load()) return;
    if (ec) {
      // Out of descriptors or buffers: log once per streak, pause, go on.
      if (!accept_error_logged_) {
        log_line(fmt::format("accept failed ({}); retrying every {} ms", ec.message(),
                             kAcceptRetryDelay.count()));
        accept_error_logged_ = true;
      }
      retry_timer_.expires_after(kAcceptRetryDelay);
      retry_timer_.async_wait([this](const boost::system::error_code& wait_ec) {
        if (!wait_ec) accept_next();
      });
      return;
    }
    accept_error_logged_ = false;
    if (context_.sessions.size() >= options_.max_connections) {
      reject(std::move(socket));
    } else {
      context_.counters.connections_total.fetch_add(1);
      detail::start_session(std::move(socket), context_);
    }
    accept_next();
  }

  // Over the connection cap: answer 503 if the socket takes it at once (plain
  // HTTP only), then close. Never waits, so a flood cannot pile up here.
  void reject(tcp::socket socket) {
    context_.counters.connections_rejected.fetch_add(1);
    boost::system::error_code ignored;
    if (!tls_context_) {
      static const std::string kBusy = busy_response();
      socket.non_blocking(true, ignored);
      socket.write_some(net::buffer(kBusy), ignored);
    }
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  void begin_stop() {
    if (context_.stopping.exchange(true)) return;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    if (signals_) signals_->cancel(ignored);
    for (const auto& session : context_.sessions.snapshot()) session->notify_stopping();
    drain_deadline_ = std::chrono::steady_clock::now() + options_.shutdown_grace;
    poll_drain();
  }

  void poll_drain() {
    if (context_.sessions.size() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
      for (const auto& session : context_.sessions.snapshot()) session->force_close();
      // The closes above are queued work; once they and the aborted
      // operations complete, run() returns.
      work_guard_.reset();
      return;
    }
    drain_timer_.expires_after(kDrainPollInterval);
    drain_timer_.async_wait([this](const boost::system::error_code&) { poll_drain(); });
  }

  // Members are destroyed in reverse order: the workers go first (a task they
  // drop may still post to the io_context); the session context and the TLS
  // context outlive the io_context, whose destructor destroys the sessions
  // that queued handlers still hold.
  ServerOptions options_;
  Router router_;
  std::optional<net::ssl::context> tls_context_;
  detail::ServerContext context_;
  net::io_context io_context_;
  net::strand<net::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  net::steady_timer drain_timer_;
  std::optional<net::signal_set> signals_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_guard_;
  net::thread_pool workers_;

  uint16_t bound_port_ = 0;
  bool accept_error_logged_ = false;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::mutex run_mutex_;
  bool ran_ = false;
};

Server::Server(ServerOptions options, Router router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

Server::~Server() = default;

uint16_t Server::port() const { return impl_->port(); }

void Server::run() { impl_->run(false); }

void Server::run_until_signal() { impl_->run(true); }

void Server::stop() { impl_->stop(); }

ServerStats Server::stats() const { return impl_->stats(); }

}  // namespace tailsweep::http
