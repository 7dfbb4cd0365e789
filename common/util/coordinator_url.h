#pragma once
// The coordinator's URL as every command takes it (--coordinator): one rule
// for the agent and the user's commands alike.
#include <string>
#include <string_view>

namespace tailsweep {

// "http://HOST:PORT" or "https://HOST:PORT", a trailing "/" dropped. An
// InputError that says what to write instead for anything else: no scheme
// (the scheme decides whether TLS is used, so it is never guessed), another
// scheme, or a path ("/v1": the commands add the API's paths themselves).
std::string checked_coordinator_url(std::string_view url);

}  // namespace tailsweep
