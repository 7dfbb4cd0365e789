#pragma once
// Tokens come from a flag, a file or an environment variable (in that order
// of preference) and are never printed. A file keeps them out of `ps` and
// shell history; the variable suits systemd's EnvironmentFile=.
#include <string>

namespace tailsweep {

struct SecretSource {
  std::string value;     // --x-token
  std::string file;      // --x-token-file (surrounding whitespace trimmed)
  std::string env_name;  // e.g. TAILSWEEP_ADMIN_TOKEN
};

// Throws InputError naming the flags when none of the three is given, or
// when the file cannot be read or is empty.
std::string resolve_secret(const SecretSource& source, const std::string& what);

}  // namespace tailsweep
