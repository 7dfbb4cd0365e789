#pragma once
// What the writer says about its database when commits fail (a full disk,
// an I/O error): the first failure at once, naming the database and the
// cause; then at most one line per interval with how many failed since; and
// one line when a commit succeeds again. Without it a full disk showed as
// dozens of "internal error" lines and no word when it was over.
//
// A disk that is nearly full takes small writes now and then: commits then
// fail and succeed in turn, and a line per turn alternated "could not
// commit" and "commits again". So a failure within the interval after a
// recovery was said continues the episode silently (it flaps); from then on
// a failure line comes at most once per interval, and a recovery is said at
// once after a failure line (so the log never ends on a failure that is
// over) and otherwise waits for the interval. The lines count the commits
// that got through. Pure (the caller passes the time), so its rules are
// unit-tested.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tailsweep::coordinator {

class CommitHealth {
 public:
  explicit CommitHealth(std::string db_path, double interval_s = 10.0)
      : db_path_(std::move(db_path)), interval_s_(interval_s) {}

  // A batch of `operations` was not committed. `hint` says what to do, if
  // the cause is known ("the disk under it is full: free space there").
  // Returns the line to log, if one is due.
  std::optional<std::string> failed(std::string_view cause, std::string_view hint,
                                    std::size_t operations, double now_s);
  // A batch was committed: the line saying commits work again, when due.
  std::optional<std::string> committed(double now_s);

  bool failing() const { return state_ == State::kFailing; }

 private:
  enum class State { kHealthy, kFailing, kRecoveryUnsaid };
  bool line_due(double now_s) const {
    return !last_line_s_ || now_s - *last_line_s_ >= interval_s_;
  }
  std::string said(double now_s, bool failure, std::string line);

  std::string db_path_;
  double interval_s_;
  State state_ = State::kHealthy;
  std::optional<double> last_line_s_;
  bool last_line_failure_ = false;  // the line said last was a failure line
  bool episode_open_ = false;       // from a first failure until an interval without one
  // The episode: from its first failure to the recovery said last.
  double episode_start_s_ = 0;
  bool flapping_ = false;               // failures resumed within an interval of a recovery
  std::size_t failed_batches_ = 0;      // in the episode
  std::size_t failed_operations_ = 0;   // in the episode
  std::size_t commits_between_ = 0;     // in the episode, while it flapped
  std::size_t unreported_batches_ = 0;  // since the last line
  std::size_t unreported_commits_ = 0;  // since the last line
};

}  // namespace tailsweep::coordinator
