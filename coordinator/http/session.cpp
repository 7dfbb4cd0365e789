// One HTTP/1.1 connection, plain or TLS, in the shape of Beast's
// advanced_server_flex example: a strand per connection, a tcp_stream whose
// expiry bounds every read and write, a request_parser with header and body
// limits, and keep-alive. The shared request/response logic lives in
// HttpSession<Derived>; PlainSession and TlsSession add their stream and how
// each one closes.
#include <algorithm>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/core.h>

#include "common/util/errors.h"
#include "coordinator/http/server_context.h"
#include "coordinator/http/url.h"

namespace tailsweep::http::detail {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

constexpr std::size_t kReadChunkBytes = 8 * 1024;
// Closing after an error (413, 400) or "Connection: close": half-close, then
// read and discard what the client still sends for a moment, so the kernel
// does not reset the connection before the client has read our answer.
constexpr std::chrono::seconds kDrainTimeout{2};
constexpr std::size_t kMaxDrainBytes = 1024 * 1024;

// The read buffer holds only what the parser has not consumed yet: a header
// until it is complete, chunk-size lines, and a chunked body's trailer, which
// Beast (1.74) parses only once all of it is there and bounds by nothing
// else. Capping the buffer at the header limit makes the limit cover
// trailers too (a longer one ends as buffer_overflow, answered 431), and
// keeps a trailer field from reaching the 64 KiB where Beast's field store
// throws instead of failing the read. Body bytes pass through as they come.
std::size_t read_buffer_limit(const ServerOptions& options) {
  return std::max(options.max_header_bytes, 2 * kReadChunkBytes);
}

template <class Derived>
class HttpSession : public SessionBase {
 public:
  ~HttpSession() override { release_body(); }

  void notify_stopping() override {
    net::post(executor_, [self = shared()] {
      if (self->phase_ == Phase::waiting) self->close();
    });
  }

  void force_close() override {
    net::post(executor_, [self = shared()] { self->close(); });
  }

 protected:
  HttpSession(ServerContext& context, std::string remote_address, net::any_io_executor executor)
      : context_(context),
        buffer_(read_buffer_limit(context.options)),
        remote_address_(std::move(remote_address)),
        executor_(std::move(executor)) {}

  std::shared_ptr<Derived> shared() {
    return std::static_pointer_cast<Derived>(this->shared_from_this());
  }

  // Reads one request; the whole of it must arrive within read_timeout.
  void read_request() {
    phase_ = Phase::waiting;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(context_.options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(context_.options.max_body_bytes);
    derived().tcp_layer().expires_after(context_.options.read_timeout);
    bhttp::async_read_header(
        derived().stream(), buffer_, *parser_,
        [self = shared()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  // Hard close; idempotent. Drops the registry's reference, so the session
  // ends once its pending operations (which hold their own) complete.
  void close() {
    release_body();
    if (phase_ == Phase::closed) return;
    phase_ = Phase::closed;
    beast::error_code ignored;
    derived().tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    derived().tcp_layer().close();
    context_.sessions.remove(this);
  }

  enum class Phase { waiting, handling, writing, closing, closed };

  ServerContext& context_;
  beast::flat_buffer buffer_;
  Phase phase_ = Phase::waiting;

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    if (!reserve_body()) {
      return answer_and_close(error_response(
          ErrorCode::kTooManyBodies,
          fmt::format("the request bodies being read fill the server's budget of {} bytes; retry",
                      context_.options.max_buffered_body_bytes)));
    }
    const auto& header = parser_->get();
    if (header.version() >= 11 && beast::iequals(header[bhttp::field::expect], "100-continue")) {
      // The client waits for this before sending the body (the limits were
      // already checked against Content-Length by now).
      continue_response_ = bhttp::response<bhttp::empty_body>(bhttp::status::continue_, 11);
      bhttp::async_write(derived().stream(), continue_response_,
                         [self = shared()](beast::error_code write_ec, std::size_t) {
                           if (write_ec) return self->close();
                           self->read_body();
                         });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request(parser_->release());
    bhttp::async_read(derived().stream(), buffer_, *parser_,
                      [self = shared()](beast::error_code ec, std::size_t) {
                        if (ec) return self->on_read_error(ec);
                        self->on_request(self->parser_->release());
                      });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return answer_and_close(
          error_response(ErrorCode::kBodyTooLarge,
                         fmt::format("the request body is over the limit of {} bytes",
                                     context_.options.max_body_bytes)));
    }
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      return answer_and_close(
          error_response(ErrorCode::kHeadersTooLarge,
                         fmt::format("the request header (or a chunked body's trailer) is "
                                     "over the limit of {} bytes",
                                     context_.options.max_header_bytes)));
    }
    const bool parse_error =
        ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
    if (parse_error && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return answer_and_close(error_response(ErrorCode::kMalformedRequest, fmt::format("malformed HTTP request: {}", ec.message())));
    }
    // The client closed, went quiet past a timeout, or the network failed:
    // nobody to answer.
    close();
  }

  // A malformed or oversized request: answer it, then close (the rest of the
  // stream cannot be trusted to start at a request boundary).
  void answer_and_close(Response response) {
    context_.counters.requests_total.fetch_add(1);
    keep_alive_ = false;
    head_request_ = false;
    request_version_ = 11;
    phase_ = Phase::handling;
    write_response(std::move(response));
  }

  void on_request(bhttp::request<bhttp::string_body> message) {
    context_.counters.requests_total.fetch_add(1);
    derived().tcp_layer().expires_never();  // a handler may long-poll; no read is pending meanwhile
    phase_ = Phase::handling;
    keep_alive_ = message.keep_alive();
    head_request_ = message.method() == bhttp::verb::head;
    request_version_ = message.version();

    Request request;
    request.method = std::string(message.method_string());
    try {
      const SplitTarget target = split_target(message.target());
      request.path = std::string(target.path);
      request.query = parse_query(target.query);
    } catch (const InputError& e) {
      return write_response(error_response(ErrorCode::kBadRequest, e.what()));
    }
    request.bearer_token = bearer_token(message[bhttp::field::authorization]);
    request.body = std::move(message.body());
    request.remote_address = remote_address_;

    // Handlers run on the worker pool; the answer comes back to this strand.
    Responder responder(
        [weak = std::weak_ptr<SessionBase>(this->shared_from_this())](Response response) {
          const std::shared_ptr<SessionBase> base = weak.lock();
          if (!base) return;  // the connection (or the server) is gone
          auto self = std::static_pointer_cast<Derived>(base);
          net::post(self->executor_, [self, response = std::move(response)]() mutable {
            self->write_response(std::move(response));
          });
        });
    net::post(context_.workers, [&router = context_.router, request = std::move(request),
                                 responder = std::move(responder)]() mutable {
      router.dispatch(std::move(request), std::move(responder));
    });
  }

  void write_response(Response response) {
    if (phase_ != Phase::handling) return;  // closed meanwhile (stop(), or the client left)
    phase_ = Phase::writing;
    if (response.status < 200 || response.status > 599) {
      // Interim (1xx) answers are the server's business, not a handler's.
      response = error_response(ErrorCode::kInternal, "the handler gave an invalid status");
    }
    context_.counters.count_response(response.status);

    response_ = {};
    response_.version(request_version_);
    response_.result(response.status);
    response_.set(bhttp::field::server, "tailsweep");
    response_.set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) {
      // Framing headers are ours: a handler must not be able to break them.
      if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Connection") ||
          beast::iequals(name, "Transfer-Encoding")) {
        continue;
      }
      response_.insert(name, value);
    }
    const bool no_body_allowed = response.status == 204 || response.status == 304;
    if (!no_body_allowed) response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive_ && !context_.stopping.load());
    response_.prepare_payload();
    if (head_request_) {
      const std::size_t length = response_.body().size();
      response_.body().clear();
      response_.content_length(length);
    }

    derived().tcp_layer().expires_after(context_.options.read_timeout);
    bhttp::async_write(
        derived().stream(), response_,
        [self = shared()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    release_body();
    if (ec) return close();
    if (!response_.keep_alive()) return derived().close_gracefully();
    response_ = {};
    wait_for_next_request();
  }

  // Between keep-alive requests the connection may idle for idle_timeout;
  // once a byte arrives the request must complete within read_timeout.
  void wait_for_next_request() {
    phase_ = Phase::waiting;
    if (context_.stopping.load()) return derived().close_gracefully();
    if (buffer_.size() > 0) return read_request();  // pipelined: already here
    derived().tcp_layer().expires_after(context_.options.idle_timeout);
    derived().stream().async_read_some(buffer_.prepare(kReadChunkBytes),
                                       [self = shared()](beast::error_code ec, std::size_t bytes) {
                                         if (ec || self->phase_ != Phase::waiting)
                                           return self->close();
                                         self->buffer_.commit(bytes);
                                         self->read_request();
                                       });
  }

  // Takes this request's share of the server's body budget: its
  // Content-Length, or the body limit when chunked (its length is not
  // known); none for a small body. False when it does not fit.
  bool reserve_body() {
    const auto length = parser_->content_length();  // a boost::optional
    const std::size_t wanted = length                ? static_cast<std::size_t>(*length)
                               : parser_->chunked() ? context_.options.max_body_bytes
                                                    : 0;
    if (wanted <= kUnbudgetedBodyBytes) return true;
    std::size_t held = context_.buffered_body_bytes.load();
    do {
      if (held + wanted > context_.options.max_buffered_body_bytes) return false;
    } while (!context_.buffered_body_bytes.compare_exchange_weak(held, held + wanted));
    reserved_body_bytes_ = wanted;
    return true;
  }

  // The request's body is answered (or the connection gone): its share returns.
  void release_body() {
    if (reserved_body_bytes_ == 0) return;
    context_.buffered_body_bytes.fetch_sub(reserved_body_bytes_);
    reserved_body_bytes_ = 0;
  }

  std::string remote_address_;
  std::size_t reserved_body_bytes_ = 0;
  net::any_io_executor executor_;  // the connection's strand
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::empty_body> continue_response_;
  bhttp::response<bhttp::string_body> response_;
  bool keep_alive_ = false;
  bool head_request_ = false;
  unsigned request_version_ = 11;
};

class PlainSession : public HttpSession<PlainSession> {
 public:
  PlainSession(tcp::socket socket, ServerContext& context, std::string remote_address)
      : HttpSession(context, std::move(remote_address), socket.get_executor()),
        stream_(std::move(socket)) {}

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared()] { self->read_request(); });
  }

  beast::tcp_stream& stream() { return stream_; }
  beast::tcp_stream& tcp_layer() { return stream_; }

  void close_gracefully() {
    phase_ = Phase::closing;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    drained_bytes_ = 0;
    stream_.expires_after(kDrainTimeout);
    drain();
  }

 private:
  void drain() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(
        buffer_.prepare(kReadChunkBytes),
        [self = shared()](beast::error_code ec, std::size_t bytes) {
          self->drained_bytes_ += bytes;
          if (ec || self->phase_ != Phase::closing || self->drained_bytes_ > kMaxDrainBytes) {
            return self->close();
          }
          self->drain();
        });
  }

  beast::tcp_stream stream_;
  std::size_t drained_bytes_ = 0;
};

class TlsSession : public HttpSession<TlsSession> {
 public:
  TlsSession(tcp::socket socket, ServerContext& context, std::string remote_address)
      : HttpSession(context, std::move(remote_address), socket.get_executor()),
        stream_(std::move(socket), *context.tls) {}

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared()] {
      // The handshake shares read_timeout, so a silent client cannot hold a slot.
      self->tcp_layer().expires_after(self->context_.options.read_timeout);
      self->stream_.async_handshake(net::ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) return self->close();
        self->read_request();
      });
    });
  }

  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  beast::tcp_stream& tcp_layer() { return stream_.next_layer(); }

  void close_gracefully() {
    phase_ = Phase::closing;
    tcp_layer().expires_after(kDrainTimeout);
    stream_.async_shutdown([self = shared()](beast::error_code) { self->close(); });
  }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
};

template <class Session>
void start(tcp::socket socket, ServerContext& context, std::string remote_address) {
  auto session = std::make_shared<Session>(std::move(socket), context, std::move(remote_address));
  context.sessions.add(session);
  session->start();
}

}  // namespace

void start_session(tcp::socket socket, ServerContext& context) {
  beast::error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  std::string remote_address = ec ? std::string() : remote.address().to_string();
  if (context.tls != nullptr) {
    start<TlsSession>(std::move(socket), context, std::move(remote_address));
  } else {
    start<PlainSession>(std::move(socket), context, std::move(remote_address));
  }
}

// ---- SessionRegistry -------------------------------------------------------

void SessionRegistry::add(std::shared_ptr<SessionBase> session) {
  const std::lock_guard lock(mutex_);
  const SessionBase* key = session.get();
  sessions_.emplace(key, std::move(session));
}

void SessionRegistry::remove(const SessionBase* session) {
  std::shared_ptr<SessionBase> removed;  // destroyed after unlocking
  const std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(session); it != sessions_.end()) {
    removed = std::move(it->second);
    sessions_.erase(it);
  }
}

std::vector<std::shared_ptr<SessionBase>> SessionRegistry::snapshot() const {
  const std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<SessionBase>> sessions;
  sessions.reserve(sessions_.size());
  for (const auto& [key, session] : sessions_) sessions.push_back(session);
  return sessions;
}

std::size_t SessionRegistry::size() const {
  const std::lock_guard lock(mutex_);
  return sessions_.size();
}

void SessionRegistry::clear() {
  std::unordered_map<const SessionBase*, std::shared_ptr<SessionBase>> cleared;
  {
    const std::lock_guard lock(mutex_);
    cleared.swap(sessions_);
  }
}

}  // namespace tailsweep::http::detail
