#pragma once
// A small blocking HTTP client over libcurl, for talking to the coordinator.
// One client object reuses one connection (keep-alive); use one per thread.
// HTTP error statuses are results, not exceptions; only "no HTTP response at
// all" (refused, timed out, TLS failure) throws TransportError, which callers
// retry with backoff_delay().
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tailsweep {

struct ClientOptions {
  std::string base_url;  // "http://host:port" or "https://host:port"; request paths append to it
  std::string ca_cert_file;  // PEM; verifies an https peer against it instead of the system store
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000};  // the whole request, body included
};

struct HttpResult {
  long status = 0;
  std::string body;
  std::string headers = {};  // the response's header lines as received (status line included)
};

// No HTTP response arrived. The message has curl's reason and the URL, never the token.
class TransportError : public std::runtime_error {
 public:
  TransportError(const std::string& message, std::string url, int curl_code)
      : std::runtime_error(message), url_(std::move(url)), curl_code_(curl_code) {}
  const std::string& url() const { return url_; }
  int curl_code() const { return curl_code_; }  // a CURLcode
  // The request timed out (as opposed to being refused or failing TLS).
  bool timed_out() const;
  // What the failure suggests, for a person: "; is the coordinator serving
  // plain HTTP? ..." after a TLS handshake failure on https, and the other way
  // round; "" otherwise.
  std::string hint() const;

 private:
  std::string url_;
  int curl_code_;
};

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options);
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // method: "GET", "POST", "PUT", "DELETE", ...; path: "/v1/jobs?x=1" (appended
  // to base_url); a non-empty body is sent as application/json; timeout
  // overrides request_timeout (a long-poll asks for more than the server's wait);
  // abort, when given, ends the request within about a second of being set
  // (TransportError): what lets a long-poll stop for a signal.
  HttpResult request(std::string_view method, std::string_view path, std::string_view body = {},
                     std::string_view bearer_token = {},
                     std::optional<std::chrono::milliseconds> timeout = {},
                     const std::atomic<bool>* abort = nullptr);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Exponential backoff with full jitter: a delay drawn uniformly from
// [0, min(cap, base * 2^attempt)] using random_bits (attempt counts from 0).
// Pure, so the caller owns the randomness and tests can pin it.
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, uint64_t random_bits);

}  // namespace tailsweep
