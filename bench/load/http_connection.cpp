#include "bench/load/http_connection.h"

#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

namespace tailsweep::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

HttpConnection::HttpConnection(asio::any_io_executor executor, asio::ip::tcp::endpoint endpoint)
    : endpoint_(endpoint), stream_(std::move(executor)) {}

asio::awaitable<void> HttpConnection::ensure_connected() {
  if (connected_) co_return;
  stream_.expires_after(std::chrono::seconds(10));
  co_await stream_.async_connect(endpoint_, asio::use_awaitable);
  // Requests are small and answered one at a time: Nagle would only add delay.
  stream_.socket().set_option(asio::ip::tcp::no_delay(true));
  connected_ = true;
  ++connects_;
}

void HttpConnection::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

asio::awaitable<HttpReply> HttpConnection::post(std::string_view target,
                                                std::string_view bearer_token, std::string body,
                                                std::chrono::milliseconds timeout) {
  co_await ensure_connected();
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::authorization, std::string("Bearer ") + std::string(bearer_token));
  request.keep_alive(true);
  request.body() = std::move(body);
  request.prepare_payload();

  http::response<http::string_body> response;
  try {
    stream_.expires_after(timeout);
    co_await http::async_write(stream_, request, asio::use_awaitable);
    co_await http::async_read(stream_, buffer_, response, asio::use_awaitable);
  } catch (...) {
    close();
    throw;
  }
  if (!response.keep_alive()) close();
  co_return HttpReply{response.result_int(), std::move(response.body())};
}

}  // namespace tailsweep::loadgen
