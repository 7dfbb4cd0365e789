#pragma once
// SHA-256 and random identifiers through OpenSSL, as lower-case hex: the
// identity of a weights file in every evaluation, agent tokens stored as
// their hash, result bodies fingerprinted (a repeat from a conflict), and
// unguessable lease ids and tokens.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace tailsweep {

std::string sha256_hex(std::string_view bytes);
// Streams the file; InputError naming it when it cannot be read.
std::string file_sha256_hex(const std::filesystem::path& path);

// True for exactly 64 lower-case hex digits: what sha256_hex returns.
bool is_sha256_hex(std::string_view text);

// byte_count bytes from OpenSSL's CSPRNG, as hex (2 digits per byte).
std::string random_hex(std::size_t byte_count);

}  // namespace tailsweep
