#include "common/util/secrets.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep {
namespace {

std::string trimmed(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::string resolve_secret(const SecretSource& source, const std::string& what) {
  if (!source.value.empty()) return source.value;
  if (!source.file.empty()) {
    std::ifstream file(source.file);
    if (!file) throw InputError(fmt::format("cannot read the {} file {}", what, source.file));
    std::ostringstream text;
    text << file.rdbuf();
    std::string secret = trimmed(text.str());
    if (secret.empty()) throw InputError(fmt::format("the {} file {} is empty", what, source.file));
    return secret;
  }
  if (!source.env_name.empty()) {
    if (const char* value = std::getenv(source.env_name.c_str()); value != nullptr) {
      if (std::string secret = trimmed(value); !secret.empty()) return secret;
    }
  }
  throw InputError(
      fmt::format("no {} given: use the flag, its -file form or ${}", what, source.env_name));
}

}  // namespace tailsweep
