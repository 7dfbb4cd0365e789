#pragma once
// The one way untrusted JSON text becomes a value, on both sides: request and
// answer bodies, job specs, result documents, outbox files, sweep specs,
// safetensors headers. nlohmann's own parse accepts what this project must
// not: documents nested so deep that copying, comparing or dumping them
// recurses past the stack (70,000 levels crash a process), and objects with
// a key twice (nlohmann keeps the last silently, so two readers of the same
// text could disagree). Both are refused while parsing, before a deep value
// exists.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tailsweep {

// Deeper than any document this project writes (a result's device facts are
// about 5 levels down), far below what recursion over the value can survive.
inline constexpr int kMaxJsonDepth = 64;

// Parses one JSON document. Refuses, with an InputError that starts with
// `what` ("the result body: ..."): a syntax error (with its position), a
// number outside double's range (1e400), nesting deeper than max_depth
// arrays and objects, and a key repeated within one object.
nlohmann::json parse_strict_json(std::string_view text, std::string_view what,
                                 int max_depth = kMaxJsonDepth);

// A JSON file read whole and parsed strictly; InputError "cannot read
// {what} {path}" when it cannot be read, else parse_strict_json's, naming the
// path.
nlohmann::json read_json_file(const std::string& path, std::string_view what);

}  // namespace tailsweep
