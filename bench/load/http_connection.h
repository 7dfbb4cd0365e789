#pragma once
// One keep-alive HTTP/1.1 client connection for the load generator, as C++20
// coroutines over Boost.Beast. A simulated agent owns exactly one, as a real
// agent would keep one connection to its coordinator.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace tailsweep::loadgen {

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

class HttpConnection {
 public:
  HttpConnection(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint endpoint);

  // POSTs a JSON body with a bearer token and waits for the whole answer.
  // `timeout` bounds the exchange (a long poll needs more than its wait).
  // Connects on first use and again after the server closed the
  // connection. Throws boost::system::system_error on network errors; the
  // connection is closed then and reconnects on the next call.
  boost::asio::awaitable<HttpReply> post(std::string_view target, std::string_view bearer_token,
                                         std::string body, std::chrono::milliseconds timeout);

  // How many TCP connections this object opened (1 when keep-alive held).
  int connects() const { return connects_; }

 private:
  boost::asio::awaitable<void> ensure_connected();
  void close();

  boost::asio::ip::tcp::endpoint endpoint_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  int connects_ = 0;
};

}  // namespace tailsweep::loadgen
