#include "common/util/progress.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace tailsweep {

ProgressLine::ProgressLine()
    : enabled_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {
  if (const char* mode = std::getenv("TAILSWEEP_PROGRESS"); mode != nullptr) {
    const std::string_view wanted(mode);
    if (wanted == "off") enabled_ = false;
    if (wanted == "lines") enabled_ = lines_ = true;
  }
}

void ProgressLine::update(std::size_t done, std::size_t total, std::string_view detail) {
  if (done == 0) return;
  print(static_cast<double>(std::min(done, total)) / static_cast<double>(std::max<std::size_t>(total, 1)),
        fmt::format("[{}/{}]", done, total), detail);
}

void ProgressLine::update_fraction(double fraction, std::string_view detail) {
  if (!(fraction > 0)) return;
  fraction = std::min(fraction, 1.0);
  print(fraction, fmt::format("[{:.0f}%]", 100 * fraction), detail);
}

void ProgressLine::print(double fraction, std::string_view counter, std::string_view detail) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  // At most ten redraws a second (one line a second in a log): a fast loop
  // should not spend its time on the terminal.
  const auto period = lines_ ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(100);
  const bool finished = fraction >= 1.0;
  if (!finished && now - last_print_ < period) return;
  last_print_ = now;
  const double elapsed_s = std::chrono::duration<double>(now - start_).count();
  const double eta_s = elapsed_s / fraction * (1.0 - fraction);
  if (lines_) {
    fmt::print(stderr, "{} {}, ETA {:.0f}s\n", counter, detail, eta_s);
    return;
  }
  fmt::print(stderr, "\r{} {}, ETA {:.0f}s   ", counter, detail, eta_s);
  if (finished) fmt::print(stderr, "\n");
}

}  // namespace tailsweep
