#include "common/util/progress.h"

#include <unistd.h>

#include <fmt/format.h>

namespace tailsweep {

ProgressLine::ProgressLine()
    : enabled_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

void ProgressLine::update(std::size_t done, std::size_t total, std::string_view detail) {
  if (!enabled_ || done == 0) return;
  const auto now = std::chrono::steady_clock::now();
  // At most ten redraws a second: a fast loop should not spend its time on the terminal.
  if (done < total && now - last_print_ < std::chrono::milliseconds(100)) return;
  last_print_ = now;
  const double elapsed_s = std::chrono::duration<double>(now - start_).count();
  const double eta_s =
      elapsed_s / static_cast<double>(done) * static_cast<double>(total - std::min(done, total));
  fmt::print(stderr, "\r[{}/{}] {}, ETA {:.0f}s   ", done, total, detail, eta_s);
  if (done >= total) fmt::print(stderr, "\n");
}

}  // namespace tailsweep
