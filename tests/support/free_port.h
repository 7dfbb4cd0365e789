#pragma once
// A loopback port for a server that must come up (again) on a port known in
// advance: an agent started before its coordinator, a coordinator restarted
// after SIGKILL. A port the kernel handed out for port 0 and that was then
// freed can be handed to any other process in the meantime (tests run in
// parallel); this one is chosen below the kernel's ephemeral range, where
// port-0 binds never land, and checked free now.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <stdexcept>

namespace tailsweep::testing {

inline uint16_t port_outside_the_ephemeral_range() {
  int ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  const int low = 10000;
  const int high = std::max(low + 1000, ephemeral_low);
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(low, high - 1);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<uint16_t>(pick(random));
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (free) return port;
  }
  throw std::runtime_error("no free loopback port below the ephemeral range");
}

}  // namespace tailsweep::testing
