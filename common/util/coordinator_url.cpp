#include "common/util/coordinator_url.h"

#include <fmt/format.h>

#include "common/util/errors.h"
#include "common/util/text.h"

namespace tailsweep {

std::string checked_coordinator_url(std::string_view url) {
  if (url.empty())
    throw InputError("--coordinator: give the coordinator's URL, e.g. http://127.0.0.1:8470");
  const std::string shown = printable(url);
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    throw InputError(fmt::format(
        "--coordinator '{}' has no scheme: write http://{} (or https://{} for a coordinator "
        "serving TLS)",
        shown, shown, shown));
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    throw InputError(fmt::format("--coordinator '{}': the scheme is http or https, not '{}'", shown,
                                 printable(scheme)));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const std::size_t slash = rest.find('/');
  if (rest.empty() || slash == 0) {
    throw InputError(
        fmt::format("--coordinator '{}' names no host: write {}://HOST:PORT", shown, scheme));
  }
  if (slash != std::string_view::npos) {
    const std::string base = fmt::format("{}://{}", scheme, printable(rest.substr(0, slash)));
    throw InputError(fmt::format(
        "--coordinator '{}': leave out the path ('{}'), the commands add the API's paths "
        "themselves: write {}",
        shown, printable(rest.substr(slash)), base));
  }
  return fmt::format("{}://{}", scheme, rest);
}

}  // namespace tailsweep
