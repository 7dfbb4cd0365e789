#pragma once
// A raw TCP connection to 127.0.0.1, for the requests a well-behaved client
// would never send (HTTP tests, and e2e tests against the real coordinator).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tailsweep::testing {

class RawConnection {
 public:
  explicit RawConnection(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect() failed");
    }
  }
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Half-closes: the peer reads end-of-stream after what was sent.
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Sends everything; false if the peer has gone away.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  struct ReadResult {
    std::string data;
    bool closed = false;  // the peer closed (or reset) the connection
  };

  // Reads until the peer closes or `limit` passes.
  ReadResult read_until_closed(std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    ReadResult result;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!result.closed && std::chrono::steady_clock::now() < deadline) {
      read_some(result, deadline);
    }
    return result;
  }

  // Reads one response: the header, then Content-Length bytes of body.
  std::string read_response(std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ReadResult result;
    result.data = std::move(pending_);
    while (true) {
      const std::size_t header_end = result.data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const std::size_t length = content_length(result.data.substr(0, header_end));
        const std::size_t total = header_end + 4 + length;
        if (result.data.size() >= total) {
          pending_ = result.data.substr(total);
          return result.data.substr(0, total);
        }
      }
      if (result.closed || std::chrono::steady_clock::now() >= deadline) return result.data;
      read_some(result, deadline);
    }
  }

 private:
  static std::size_t content_length(const std::string& header) {
    std::string lower = header;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::size_t at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return std::stoul(lower.substr(at + 17));
  }

  void read_some(ReadResult& result, std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd descriptor{fd_, POLLIN, 0};
    if (::poll(&descriptor, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) <= 0) return;
    char chunk[4096];
    const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got <= 0) {
      result.closed = true;
      return;
    }
    result.data.append(chunk, static_cast<std::size_t>(got));
  }

  int fd_;
  std::string pending_;  // bytes read past the last response
};

// "HTTP/1.1 404 Not Found\r\n..." -> 404; 0 if it is not a response.
inline int status_of(std::string_view response) {
  if (response.size() < 12 || response.substr(0, 5) != "HTTP/") return 0;
  return std::stoi(std::string(response.substr(9, 3)));
}

inline std::string body_of(const std::string& response) {
  const std::size_t header_end = response.find("\r\n\r\n");
  return header_end == std::string::npos ? std::string() : response.substr(header_end + 4);
}

}  // namespace tailsweep::testing
