#pragma once
// One self-overwriting progress line with an ETA on stderr, shown only when
// stderr is a terminal (logs and pipes stay clean). TAILSWEEP_PROGRESS=lines
// writes plain lines instead, at most one a second (a log that shows how far
// a long run got, and what tests watch for); =off shows nothing.
#include <chrono>
#include <cstddef>
#include <string_view>

namespace tailsweep {

class ProgressLine {
 public:
  ProgressLine();
  // "\r[done/total] detail, ETA 12s" (the rate since construction); a newline
  // once done reaches total.
  void update(std::size_t done, std::size_t total, std::string_view detail);
  // "[37%] detail, ETA 12s", for work measured in a share rather than a count.
  void update_fraction(double fraction, std::string_view detail);
  bool enabled() const { return enabled_; }
  std::chrono::duration<double> elapsed() const {
    return std::chrono::steady_clock::now() - start_;
  }

 private:
  void print(double fraction, std::string_view counter, std::string_view detail);

  bool enabled_;
  bool lines_ = false;  // plain lines rather than one overwritten line
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_{};
};

}  // namespace tailsweep
