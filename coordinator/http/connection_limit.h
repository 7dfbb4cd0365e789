#pragma once
// How many connections a coordinator can hold: each agent keeps one open (a
// long-poll), and each is a file descriptor. The default follows the
// process's open-file limit, raised to its hard limit at start-up, so that
// a large fleet is not turned away by a fixed number.
#include <cstddef>
#include <cstdint>

namespace tailsweep::http {

// File descriptors kept back for everything that is not a client: the
// database and its WAL and shared memory, the listening sockets, the
// threads' wake-up pipes, logs, the TLS files.
inline constexpr std::size_t kReservedDescriptors = 64;
// The default's ceiling: past it a flood of idle connections costs memory
// (about 10 kB each) that a real fleet does not need.
inline constexpr std::size_t kMaxDefaultConnections = 65536;

// Connections that fit under `open_files` descriptors: what the reserve
// leaves, at most the ceiling, and at least 1.
std::size_t connections_within(uint64_t open_files, std::size_t reserved = kReservedDescriptors,
                               std::size_t ceiling = kMaxDefaultConnections);

struct OpenFileLimit {
  uint64_t soft = 0;  // after raising
  uint64_t hard = 0;
  bool raised = false;  // the soft limit was below the hard one and is now equal to it
};
// Raises this process's soft RLIMIT_NOFILE to its hard limit (no privilege
// needed) and returns both. An unlimited hard limit is taken as 1,048,576.
OpenFileLimit raise_open_file_limit();

}  // namespace tailsweep::http
