#pragma once
// Strict, typed reading of JSON objects at the edge (request bodies, job
// specs, result bodies): every error is an InputError naming the full path
// of the field ("eval result: latency.median_ms: expected a number"), and
// unknown fields can be refused.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/text.h"

namespace tailsweep {

// Typed access to one JSON object's fields, naming the full path of a field
// in every error ("eval result: latency.median_ms: expected a number").
class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::string what, std::string path = "")
      : object_(object), what_(std::move(what)), path_(std::move(path)) {
    if (!object_.is_object()) fail("", "expected a JSON object");
  }

  [[noreturn]] void fail(std::string_view key, std::string_view problem) const {
    const std::string where = path_.empty() ? std::string(key)
                              : key.empty() ? path_
                                            : fmt::format("{}.{}", path_, key);
    throw InputError(where.empty() ? fmt::format("{}: {}", what_, problem)
                                   : fmt::format("{}: {}: {}", what_, where, problem));
  }

  std::string child_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  const std::string& what() const { return what_; }

  bool has(std::string_view key) const { return object_.contains(key); }
  // The object itself, as given.
  const nlohmann::json& raw() const { return object_; }
  bool is_null(std::string_view key) const { return at(key).is_null(); }

  const nlohmann::json& at(std::string_view key) const {
    const auto found = object_.find(key);
    if (found == object_.end()) fail(key, "missing");
    return *found;
  }

  std::string text(std::string_view key) const {
    const nlohmann::json& value = at(key);
    if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
      fail(key, "expected a non-empty string");
    }
    return value.get<std::string>();
  }
  // A device name, sweep name or tag (common/text.h's character set).
  std::string name(std::string_view key) const {
    std::string value = text(key);
    if (!is_valid_name(value)) fail(key, invalid_name_message(value));
    return value;
  }
  std::optional<std::string> nullable_text(std::string_view key) const {
    return is_null(key) ? std::nullopt : std::optional(text(key));
  }
  std::optional<std::string> optional_text(std::string_view key) const {
    return has(key) ? nullable_text(key) : std::nullopt;
  }

  double number(std::string_view key) const {
    const nlohmann::json& value = at(key);
    if (!value.is_number()) fail(key, "expected a number");
    return value.get<double>();
  }
  std::optional<double> nullable_number(std::string_view key) const {
    return is_null(key) ? std::nullopt : std::optional(number(key));
  }
  std::optional<double> optional_number(std::string_view key) const {
    return has(key) ? nullable_number(key) : std::nullopt;
  }
  double fraction(std::string_view key) const {
    const double value = number(key);
    if (value < 0 || value > 1) fail(key, fmt::format("{} is not a fraction in [0, 1]", value));
    return value;
  }

  int64_t integer(std::string_view key, int64_t minimum) const {
    const nlohmann::json& value = at(key);
    if (!value.is_number_integer()) fail(key, "expected an integer");
    const auto result = value.get<int64_t>();
    if (result < minimum) fail(key, fmt::format("{} is below {}", result, minimum));
    return result;
  }

  bool boolean(std::string_view key) const {
    const nlohmann::json& value = at(key);
    if (!value.is_boolean()) fail(key, "expected true or false");
    return value.get<bool>();
  }

  const nlohmann::json& array(std::string_view key, bool non_empty) const {
    const nlohmann::json& value = at(key);
    if (!value.is_array()) fail(key, "expected an array");
    if (non_empty && value.empty()) fail(key, "expected at least one element");
    return value;
  }

  // Refuses any key not in `known`: a misspelt field is an error, not a
  // silently ignored setting.
  void reject_unknown(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : object_.items()) {
      bool listed = false;
      for (const std::string_view name : known) listed = listed || name == key;
      if (!listed) {
        std::string names;
        for (const std::string_view name : known) {
          names += names.empty() ? "" : ", ";
          names += name;
        }
        fail(key, fmt::format("unknown field (known: {})", names));
      }
    }
  }

  std::vector<std::string> string_list(std::string_view key) const {
    const nlohmann::json& value = array(key, false);
    std::vector<std::string> items;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) fail(fmt::format("{}[{}]", key, i), "expected a string");
      items.push_back(value[i].get<std::string>());
    }
    return items;
  }

  std::vector<std::string> name_list(std::string_view key) const {
    std::vector<std::string> names = string_list(key);
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!is_valid_name(names[i]))
        fail(fmt::format("{}[{}]", key, i), invalid_name_message(names[i]));
    }
    return names;
  }

  JsonFields object(std::string_view key) const {
    return JsonFields(at(key), what_, child_path(key));
  }
  JsonFields element(std::string_view key, std::size_t index, const nlohmann::json& value) const {
    return JsonFields(value, what_, fmt::format("{}[{}]", child_path(key), index));
  }

 private:
  const nlohmann::json& object_;
  std::string what_;
  std::string path_;
};

}  // namespace tailsweep
