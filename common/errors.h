#pragma once
// Errors that reach a user as one line. Input problems (a bad flag, a bad
// spec, a file that does not match the model) are InputError so commands can
// answer them with a clear message and a non-zero exit, never a stack trace.
#include <stdexcept>
#include <string>

namespace tailsweep {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tailsweep
