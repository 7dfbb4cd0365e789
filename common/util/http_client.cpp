#include "common/util/http_client.h"

#include <algorithm>
#include <csignal>
#include <mutex>

#include <curl/curl.h>
#include <fmt/core.h>

namespace tailsweep {
namespace {

// curl_global_init is not thread-safe and must run once per process.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
    // With CURLOPT_NOSIGNAL (needed for timeouts in threaded programs) curl
    // no longer shields us from SIGPIPE when a TLS peer vanishes mid-write;
    // ignore it unless the program installed its own handler.
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      std::signal(SIGPIPE, SIG_IGN);
    }
  });
}

struct CurlHandleDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlHandle = std::unique_ptr<CURL, CurlHandleDeleter>;
using CurlList = std::unique_ptr<curl_slist, CurlListDeleter>;

size_t append_to_string(char* data, size_t size, size_t count, void* user_data) {
  static_cast<std::string*>(user_data)->append(data, size * count);
  return size * count;
}

void append_header(CurlList& list, const std::string& header) {
  curl_slist* head = curl_slist_append(list.get(), header.c_str());
  if (head == nullptr) throw std::bad_alloc();
  if (!list) list.reset(head);  // later appends return this same head
}

}  // namespace

bool TransportError::timed_out() const { return curl_code_ == CURLE_OPERATION_TIMEDOUT; }

std::string TransportError::hint() const {
  const bool https = url_.starts_with("https://");
  if (https && curl_code_ == CURLE_SSL_CONNECT_ERROR) {
    return " (is the coordinator serving plain HTTP? Then use http://; one serving TLS was "
           "started with --tls-cert)";
  }
  if (https && curl_code_ == CURLE_PEER_FAILED_VERIFICATION) {
    return " (the coordinator's certificate is not signed by a CA this client trusts: give the "
           "CA that signed it with --ca-cert)";
  }
  if (!https && (curl_code_ == CURLE_GOT_NOTHING || curl_code_ == CURLE_RECV_ERROR ||
                 curl_code_ == CURLE_WEIRD_SERVER_REPLY)) {
    return " (is the coordinator serving TLS? Then use https:// and --ca-cert)";
  }
  return "";
}

// CURLOPT_XFERINFOFUNCTION: non-zero ends the transfer.
static int abort_if_set(void* abort, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(abort)->load() ? 1 : 0;
}

class HttpClient::Impl {
 public:
  explicit Impl(ClientOptions options) : options_(std::move(options)) {
    init_curl_once();
    while (!options_.base_url.empty() && options_.base_url.back() == '/') {
      options_.base_url.pop_back();
    }
    handle_.reset(curl_easy_init());
    if (!handle_) throw std::runtime_error("curl_easy_init failed");
  }

  HttpResult request(std::string_view method, std::string_view path, std::string_view body,
                     std::string_view bearer_token,
                     std::optional<std::chrono::milliseconds> timeout,
                     const std::atomic<bool>* abort) {
    CURL* curl = handle_.get();
    // Resets the options but keeps the open connection, so requests reuse it.
    curl_easy_reset(curl);
    const std::string url = options_.base_url + std::string(path);
    const std::string method_name(method);
    HttpResult result;
    char error_text[CURL_ERROR_SIZE] = {};

    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(timeout.value_or(options_.request_timeout).count()));
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_to_string);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_to_string);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
    if (abort != nullptr) {
      // libcurl calls this about once a second even while nothing arrives,
      // which is as soon as a long-poll ends once *abort is set.
      curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_if_set);
      curl_easy_setopt(curl, CURLOPT_XFERINFODATA, abort);
    }
    if (!options_.ca_cert_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_cert_file.c_str());
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    }

    if (method_name == "GET" && body.empty()) {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (method_name == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
      if (method_name != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method_name.c_str());
    }

    CurlList headers;
    append_header(headers, "Accept: application/json");
    // No "Expect: 100-continue" round trip before bodies: our bodies are small.
    append_header(headers, "Expect:");
    if (!body.empty()) append_header(headers, "Content-Type: application/json");
    if (!bearer_token.empty())
      append_header(headers, "Authorization: Bearer " + std::string(bearer_token));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());

    const CURLcode code = curl_easy_perform(curl);
    if (code == CURLE_ABORTED_BY_CALLBACK) {
      throw TransportError(
          fmt::format("{} {}: abandoned, the caller is stopping", method_name, url), url,
          static_cast<int>(code));
    }
    if (code != CURLE_OK) {
      const std::string detail = error_text[0] != '\0' ? error_text : curl_easy_strerror(code);
      throw TransportError(fmt::format("{} {} failed: {}", method_name, url, detail), url,
                           static_cast<int>(code));
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
    return result;
  }

 private:
  ClientOptions options_;
  CurlHandle handle_;
};

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

HttpResult HttpClient::request(std::string_view method, std::string_view path,
                               std::string_view body, std::string_view bearer_token,
                               std::optional<std::chrono::milliseconds> timeout,
                               const std::atomic<bool>* abort) {
  return impl_->request(method, path, body, bearer_token, timeout, abort);
}

std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, uint64_t random_bits) {
  if (base.count() <= 0 || cap.count() <= 0) return std::chrono::milliseconds{0};
  // base * 2^attempt, saturating at cap without overflowing.
  uint64_t ceiling = static_cast<uint64_t>(base.count());
  const uint64_t cap_ms = static_cast<uint64_t>(cap.count());
  for (int i = 0; i < attempt && ceiling < cap_ms; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap_ms);
  return std::chrono::milliseconds{static_cast<int64_t>(random_bits % (ceiling + 1))};
}

}  // namespace tailsweep
