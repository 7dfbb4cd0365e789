#pragma once
// Pure helpers that turn a request target and headers into Request fields.
// Malformed input throws tailsweep::InputError (answered as 400 bad_request).
#include <map>
#include <string>
#include <string_view>

namespace tailsweep::http {

// "%2F" -> "/"; with plus_is_space (query strings), "+" -> " ".
std::string percent_decode(std::string_view text, bool plus_is_space = false);

// "a=1&b=x%20y&flag" -> {a: 1, b: "x y", flag: ""}; a repeated key keeps the last value.
std::map<std::string, std::string> parse_query(std::string_view query);

struct SplitTarget {
  std::string_view path;   // still percent-encoded
  std::string_view query;  // after '?', without it; empty if none
};
// Splits an origin-form target ("/v1/jobs?state=queued"); throws unless it starts with '/'.
SplitTarget split_target(std::string_view target);

// The token of "Bearer <token>" (scheme case-insensitive), or empty for any other value.
std::string bearer_token(std::string_view authorization_header);

}  // namespace tailsweep::http
