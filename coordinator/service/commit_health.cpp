#include "coordinator/service/commit_health.h"

#include <fmt/format.h>

namespace tailsweep::coordinator {

std::optional<std::string> CommitHealth::failed(std::string_view cause, std::string_view hint,
                                                std::size_t operations, double now_s) {
  ++failed_batches_;
  failed_operations_ += operations;
  ++unreported_batches_;
  const std::string what =
      fmt::format("{}{}{}", cause, hint.empty() ? "" : ": ", hint);
  if (!failing_since_s_) {
    failing_since_s_ = now_s;
    last_line_s_ = now_s;
    unreported_batches_ = 0;
    return fmt::format(
        "tailsweep: the database {} could not commit a write batch of {} ({}); nothing of it is "
        "stored, agents keep their results and retry",
        db_path_, operations, what);
  }
  if (now_s - last_line_s_ < interval_s_) return std::nullopt;
  const std::string line = fmt::format(
      "tailsweep: the database {} still cannot commit: {} more batches failed in {:.0f} s "
      "({} batches, {} writes since the first, {:.0f} s ago; {})",
      db_path_, unreported_batches_, now_s - last_line_s_, failed_batches_, failed_operations_,
      now_s - *failing_since_s_, what);
  last_line_s_ = now_s;
  unreported_batches_ = 0;
  return line;
}

std::optional<std::string> CommitHealth::committed(double now_s) {
  if (!failing_since_s_) return std::nullopt;
  const std::string line = fmt::format(
      "tailsweep: the database {} commits again, after {:.0f} s in which {} batches ({} writes) "
      "failed",
      db_path_, now_s - *failing_since_s_, failed_batches_, failed_operations_);
  failing_since_s_.reset();
  failed_batches_ = 0;
  failed_operations_ = 0;
  unreported_batches_ = 0;
  return line;
}

}  // namespace tailsweep::coordinator
