#include "coordinator/http/connection_limit.h"

#include <sys/resource.h>

#include <algorithm>

namespace tailsweep::http {

std::size_t connections_within(uint64_t open_files, std::size_t reserved, std::size_t ceiling) {
  const uint64_t usable = open_files > reserved ? open_files - reserved : 1;
  return static_cast<std::size_t>(std::clamp<uint64_t>(usable, 1, ceiling));
}

OpenFileLimit raise_open_file_limit() {
  constexpr uint64_t kUnlimitedAs = 1 << 20;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return {1024, 1024, false};
  const auto as_number = [](rlim_t value) {
    return value == RLIM_INFINITY ? kUnlimitedAs : static_cast<uint64_t>(value);
  };
  OpenFileLimit result{as_number(limit.rlim_cur), as_number(limit.rlim_max), false};
  if (limit.rlim_cur != limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? kUnlimitedAs : limit.rlim_max;
    // A kernel may cap what an unlimited hard limit allows (macOS's OPEN_MAX):
    // halve until it takes one, never below where it was.
    while (raised.rlim_cur > limit.rlim_cur && setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      raised.rlim_cur = std::max(limit.rlim_cur, raised.rlim_cur / 2);
    }
    if (raised.rlim_cur > limit.rlim_cur) {
      result.soft = as_number(raised.rlim_cur);
      result.raised = true;
    }
  }
  return result;
}

}  // namespace tailsweep::http
