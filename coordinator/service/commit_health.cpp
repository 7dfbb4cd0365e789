#include "coordinator/service/commit_health.h"

#include <fmt/format.h>

namespace tailsweep::coordinator {

std::string CommitHealth::said(double now_s, bool failure, std::string line) {
  last_line_s_ = now_s;
  last_line_failure_ = failure;
  unreported_batches_ = 0;
  unreported_commits_ = 0;
  return line;
}

std::optional<std::string> CommitHealth::failed(std::string_view cause, std::string_view hint,
                                                std::size_t operations, double now_s) {
  const std::string what = fmt::format("{}{}{}", cause, hint.empty() ? "" : ": ", hint);
  if (state_ == State::kHealthy && line_due(now_s)) {
    // A new episode.
    state_ = State::kFailing;
    episode_open_ = true;
    episode_start_s_ = now_s;
    flapping_ = false;
    failed_batches_ = 1;
    failed_operations_ = operations;
    commits_between_ = 0;
    return said(now_s, true,
                fmt::format("tailsweep: the database {} could not commit a write batch of {} ({}); "
                            "nothing of it is stored, agents keep their results and retry",
                            db_path_, operations, what));
  }
  // Within an interval of the recovery said last: the same episode, flapping.
  if (state_ == State::kHealthy) flapping_ = true;
  state_ = State::kFailing;
  ++failed_batches_;
  failed_operations_ += operations;
  ++unreported_batches_;
  if (!line_due(now_s)) return std::nullopt;
  const std::string between = unreported_commits_ > 0
                                  ? fmt::format(", {} committed between", unreported_commits_)
                                  : std::string();
  return said(
      now_s, true,
      fmt::format("tailsweep: the database {} still cannot commit: {} more batches failed in "
                  "{:.0f} s{} ({} batches, {} writes since the first, {:.0f} s ago; {})",
                  db_path_, unreported_batches_, now_s - *last_line_s_, between, failed_batches_,
                  failed_operations_, now_s - episode_start_s_, what));
}

std::optional<std::string> CommitHealth::committed(double now_s) {
  if (state_ == State::kHealthy) {
    // Commits in the interval after a recovery still belong to its episode
    // (failures may resume); after that the episode is over.
    if (episode_open_ && !line_due(now_s)) {
      ++commits_between_;
    } else {
      episode_open_ = false;
    }
    return std::nullopt;
  }
  ++commits_between_;
  ++unreported_commits_;
  // After a failure line the recovery is said at once; after a recovery
  // line, failures that resumed are said at most once per interval, and so
  // is the recovery that follows them.
  if (!last_line_failure_ && !line_due(now_s)) {
    state_ = State::kRecoveryUnsaid;
    return std::nullopt;
  }
  state_ = State::kHealthy;
  const std::string turns =
      flapping_ ? fmt::format(", failing and committing in turn ({} commits got through)",
                              commits_between_)
                : std::string();
  return said(
      now_s, false,
      fmt::format("tailsweep: the database {} commits again, after {:.0f} s in which {} "
                  "batches ({} writes) failed{}",
                  db_path_, now_s - episode_start_s_, failed_batches_, failed_operations_, turns));
}

}  // namespace tailsweep::coordinator
