#pragma once
// Strict text-to-number parsing and splitting, shared by every parser of
// user input (method specs, model specs, token grids) and of sysfs values:
// the whole text must be the number, or there is no number.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tailsweep {

std::optional<int64_t> parse_integer(std::string_view text);
// Finite values only: "nan" and "inf" are not numbers here.
std::optional<double> parse_double(std::string_view text);

// "a,b,,c" -> {"a", "b", "", "c"}; "" -> {""}.
std::vector<std::string_view> split(std::string_view text, char separator);

}  // namespace tailsweep
