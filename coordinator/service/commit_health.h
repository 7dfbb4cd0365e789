#pragma once
// What the writer says about its database when commits fail (a full disk,
// an I/O error): the first failure at once, naming the database and the
// cause; then at most one line per interval with how many failed since; and
// one line when a commit succeeds again. Without it a full disk showed as
// dozens of "internal error" lines and no word when it was over. Pure (the
// caller passes the time), so its rules are unit-tested.
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
  // A batch was committed: the line saying commits work again, once.
  std::optional<std::string> committed(double now_s);

  bool failing() const { return failing_since_s_.has_value(); }

 private:
  std::string db_path_;
  double interval_s_;
  std::optional<double> failing_since_s_;
  double last_line_s_ = 0;
  std::size_t failed_batches_ = 0;       // since the failures began
  std::size_t failed_operations_ = 0;    // since the failures began
  std::size_t unreported_batches_ = 0;   // since the last line
};

}  // namespace tailsweep::coordinator
