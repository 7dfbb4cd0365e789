#include "common/wire/strict_json.h"

#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/util/errors.h"
#include "common/util/text.h"

namespace tailsweep {
namespace {

using nlohmann::json;

// Thrown from the parser callback and caught below, so that the callback's
// reason (not nlohmann's generic message) reaches the user.
struct Refusal {
  std::string reason;
};

}  // namespace

json parse_strict_json(std::string_view text, std::string_view what, int max_depth) {
  // One set of keys per object being read; the callback sees every event in
  // document order, so the innermost open object is the last.
  std::vector<std::set<std::string>> open_objects;
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        // depth counts the containers already open around this one.
        if (depth >= max_depth) {
          throw Refusal{fmt::format("nested deeper than {} arrays and objects", max_depth)};
        }
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        open_objects.pop_back();
        break;
      case json::parse_event_t::key: {
        const auto& key = parsed.get_ref<const std::string&>();
        if (!open_objects.back().insert(key).second) {
          throw Refusal{fmt::format("duplicate key \"{}\" in one object", printable(key))};
        }
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check);
  } catch (const Refusal& refusal) {
    throw InputError(fmt::format("{} is refused: {}", what, refusal.reason));
  } catch (const json::exception& error) {
    // parse_error, and out_of_range for a number past double's range.
    throw InputError(fmt::format("{} is not valid JSON: {}", what, error.what()));
  }
}

json read_json_file(const std::string& path, std::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(fmt::format("cannot read {} {}", what, path));
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  return parse_strict_json(text, path);
}

}  // namespace tailsweep
