#pragma once
// Errors that reach a user as one line. Input problems (a bad flag, a bad
// spec, a file that does not match the model) are InputError so commands can
// answer them with a clear message and a non-zero exit, never a stack trace.
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/util/text.h"

namespace tailsweep {

class InputError : public std::runtime_error {
 public:
  // Messages quote what a client or a file gave (keys, names, values): the
  // message is made printable, so a NUL cannot cut it short and a control
  // character cannot reach a terminal or break the one-line form.
  explicit InputError(std::string_view message) : std::runtime_error(printable(message)) {}
};

}  // namespace tailsweep
