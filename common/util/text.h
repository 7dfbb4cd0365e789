#pragma once
// Text from outside (names, keys, error messages that quote what a client
// sent) made safe for one-line messages, logs and terminals, and the one
// character set for the names a fleet shows everywhere.
#include <cstddef>
#include <string>
#include <string_view>

namespace tailsweep {

// `text` with every control character (C0, DEL and the UTF-8-encoded C1
// range, which terminals read as escape sequences) and every byte that is
// not part of valid UTF-8 written as \xNN. Idempotent: printable text comes
// back unchanged, and a NUL can no longer cut a message short.
std::string printable(std::string_view text);

// Device names, sweep names and tags: 1 to 64 characters from A-Z a-z 0-9
// . _ - , starting with a letter or digit. They appear in terminals, file
// names, LaTeX and SQL results, so nothing in them may need escaping.
inline constexpr std::size_t kMaxNameLength = 64;
inline constexpr std::string_view kNameRule =
    "use 1 to 64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit";
bool is_valid_name(std::string_view name);
// "\"<name>\" is not a valid name: <the rule>", the name made printable.
std::string invalid_name_message(std::string_view name);

// Levenshtein distance: insertions, deletions and substitutions of one
// character each (for "did you mean ...?").
std::size_t edit_distance(std::string_view a, std::string_view b);
// InputError "<what> <invalid_name_message>", unless is_valid_name.
void check_name(std::string_view what, std::string_view name);

}  // namespace tailsweep
