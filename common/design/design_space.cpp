#include "common/design/design_space.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>

#include <fmt/format.h>

#include "common/util/errors.h"
#include "common/util/json_fields.h"

namespace tailsweep::design {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxFeedForwardLayers = 3;

std::vector<int64_t> integer_list(const JsonFields& f, std::string_view key, int64_t minimum) {
  const json& values = f.array(key, true);
  std::vector<int64_t> list;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string at = fmt::format("{}[{}]", key, i);
    if (!values[i].is_number_integer()) f.fail(at, "expected an integer");
    const auto value = values[i].get<int64_t>();
    if (value < minimum) f.fail(at, fmt::format("{} is below {}", value, minimum));
    if (std::find(list.begin(), list.end(), value) != list.end()) {
      f.fail(at, fmt::format("{} is listed twice", value));
    }
    list.push_back(value);
  }
  return list;
}

std::vector<int64_t> heads_dividing(const DesignSpace& space, int64_t hidden) {
  std::vector<int64_t> heads;
  for (const int64_t h : space.heads) {
    if (hidden % h == 0) heads.push_back(h);
  }
  return heads;
}

bool listed(const std::vector<int64_t>& list, int64_t value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// A point of the unit hypercube -> an architecture. One coordinate for the
// layer count, then per layer slot (as many as the most layers): hidden,
// heads, operation, feed-forward depth and one per feed-forward width.
constexpr std::size_t kPerLayer = 4 + kMaxFeedForwardLayers;

std::size_t dimensions(const DesignSpace& space) {
  return 1 + kPerLayer * static_cast<std::size_t>(
                             *std::max_element(space.layers.begin(), space.layers.end()));
}

template <class T>
const T& pick(const std::vector<T>& choices, double unit) {
  const auto index = static_cast<std::size_t>(unit * static_cast<double>(choices.size()));
  return choices[std::min(index, choices.size() - 1)];
}

// An architecture of the space with its input and no layers yet.
Architecture input_of(const DesignSpace& space) {
  Architecture architecture;
  architecture.input = space.input;
  architecture.sequence_length = space.sequence_length;
  architecture.vocabulary = space.vocabulary;
  architecture.image_size = space.image_size;
  architecture.patch_size = space.patch_size;
  architecture.in_channels = space.in_channels;
  return architecture;
}

Architecture decode(const DesignSpace& space, const std::vector<double>& point) {
  Architecture architecture = input_of(space);
  const int64_t layers = pick(space.layers, point[0]);
  for (int64_t i = 0; i < layers; ++i) {
    const double* u = &point[1 + kPerLayer * static_cast<std::size_t>(i)];
    EncoderLayer layer;
    layer.hidden = pick(space.hidden, u[0]);
    layer.heads = pick(heads_dividing(space, layer.hidden), u[1]);
    layer.operation = pick(space.operations, u[2]);
    const int64_t depth = pick(space.feed_forward_layers, u[3]);
    layer.feed_forward.clear();
    for (int64_t j = 0; j < depth; ++j) {
      layer.feed_forward.push_back(pick(space.feed_forward_widths, u[4 + j]));
    }
    architecture.layers.push_back(std::move(layer));
  }
  return architecture;
}

// [0, 1) from 53 random bits: the same numbers from the same seed on every
// platform (std's distributions are not specified that tightly).
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::vector<double> uniform_point(std::size_t dims, std::mt19937_64& rng) {
  std::vector<double> point(dims);
  for (double& u : point) u = unit(rng);
  return point;
}

// Keeps the first of each architecture; fills up with uniform draws.
std::vector<Architecture> distinct(const DesignSpace& space, std::vector<Architecture> drawn,
                                   std::size_t count, std::mt19937_64& rng) {
  if (space.size() < static_cast<double>(count)) {
    throw InputError(
        fmt::format("the design space holds {:.0f} architectures, fewer than the {} "
                    "asked for",
                    space.size(), count));
  }
  std::set<std::string> seen;
  std::vector<Architecture> kept;
  for (Architecture& architecture : drawn) {
    if (seen.insert(architecture_id(architecture)).second) kept.push_back(std::move(architecture));
  }
  const std::size_t dims = dimensions(space);
  while (kept.size() < count) {
    Architecture architecture = decode(space, uniform_point(dims, rng));
    if (seen.insert(architecture_id(architecture)).second) kept.push_back(std::move(architecture));
  }
  return kept;
}

}  // namespace

double DesignSpace::size() const {
  double per_layer = 0;
  for (const int64_t h : hidden) {
    double stacks = 0;
    for (const int64_t depth : feed_forward_layers) {
      stacks += std::pow(static_cast<double>(feed_forward_widths.size()), depth);
    }
    per_layer += static_cast<double>(heads_dividing(*this, h).size()) *
                 static_cast<double>(operations.size()) * stacks;
  }
  double total = 0;
  for (const int64_t count : layers) total += std::pow(per_layer, static_cast<double>(count));
  return total;
}

DesignSpace parse_design_space(const json& document) {
  const JsonFields f(document, "design space");
  f.reject_unknown({"input", "sequence_length", "vocabulary", "image_size", "patch_size",
                    "in_channels", "layers", "hidden", "heads", "operations", "feed_forward_layers",
                    "feed_forward_widths"});
  DesignSpace space;
  if (f.has("input")) {
    const std::string input = f.text("input");
    if (input == "tokens") {
      space.input = InputKind::tokens;
    } else if (input == "patches") {
      space.input = InputKind::patches;
    } else {
      f.fail("input", fmt::format("'{}' is not tokens or patches", input));
    }
  }
  const bool tokens = space.input == InputKind::tokens;
  for (const std::string_view key : {"sequence_length", "vocabulary"}) {
    if (!tokens && f.has(key)) f.fail(key, "only with input tokens");
  }
  for (const std::string_view key : {"image_size", "patch_size", "in_channels"}) {
    if (tokens && f.has(key)) f.fail(key, "only with input patches");
  }
  if (f.has("sequence_length")) space.sequence_length = f.integer("sequence_length", 1);
  if (f.has("vocabulary")) space.vocabulary = f.integer("vocabulary", 2);
  if (f.has("image_size")) space.image_size = f.integer("image_size", 1);
  if (f.has("patch_size")) space.patch_size = f.integer("patch_size", 1);
  if (f.has("in_channels")) space.in_channels = f.integer("in_channels", 1);
  if (!tokens) {
    const int64_t side = space.image_size / std::max<int64_t>(space.patch_size, 1);
    space.sequence_length = side * side + 1;
  }
  if (f.has("layers")) space.layers = integer_list(f, "layers", 1);
  if (f.has("hidden")) space.hidden = integer_list(f, "hidden", 1);
  if (f.has("heads")) space.heads = integer_list(f, "heads", 1);
  if (f.has("operations")) {
    space.operations.clear();
    const std::vector<std::string> names = f.string_list("operations");
    if (names.empty()) f.fail("operations", "expected at least one element");
    for (std::size_t i = 0; i < names.size(); ++i) {
      Operation operation{};
      try {
        operation = parse_operation(names[i]);
      } catch (const InputError& error) {
        f.fail(fmt::format("operations[{}]", i), error.what());
      }
      if (std::find(space.operations.begin(), space.operations.end(), operation) !=
          space.operations.end()) {
        f.fail(fmt::format("operations[{}]", i), fmt::format("{} is listed twice", names[i]));
      }
      space.operations.push_back(operation);
    }
  }
  if (f.has("feed_forward_layers")) {
    space.feed_forward_layers = integer_list(f, "feed_forward_layers", 1);
    for (const int64_t depth : space.feed_forward_layers) {
      if (depth > static_cast<int64_t>(kMaxFeedForwardLayers)) {
        f.fail("feed_forward_layers", fmt::format("{} is above {}", depth, kMaxFeedForwardLayers));
      }
    }
  }
  if (f.has("feed_forward_widths")) {
    space.feed_forward_widths = integer_list(f, "feed_forward_widths", 1);
  }
  for (const int64_t h : space.hidden) {
    if (heads_dividing(space, h).empty()) {
      f.fail("heads", fmt::format("no listed head count divides hidden {}", h));
    }
  }
  // Its largest architecture must pass Architecture::validate (sizes, limits).
  Architecture largest = input_of(space);
  EncoderLayer widest;
  widest.hidden = *std::max_element(space.hidden.begin(), space.hidden.end());
  widest.heads = heads_dividing(space, widest.hidden).front();
  widest.feed_forward.assign(
      static_cast<std::size_t>(
          *std::max_element(space.feed_forward_layers.begin(), space.feed_forward_layers.end())),
      *std::max_element(space.feed_forward_widths.begin(), space.feed_forward_widths.end()));
  largest.layers.assign(
      static_cast<std::size_t>(*std::max_element(space.layers.begin(), space.layers.end())),
      widest);
  try {
    largest.validate();
  } catch (const InputError& error) {
    throw InputError(
        fmt::format("design space: its largest architecture is refused: {}", error.what()));
  }
  return space;
}

json to_json(const DesignSpace& space) {
  json document = {{"input", space.input == InputKind::tokens ? "tokens" : "patches"},
                   {"layers", space.layers},
                   {"hidden", space.hidden},
                   {"heads", space.heads},
                   {"feed_forward_layers", space.feed_forward_layers},
                   {"feed_forward_widths", space.feed_forward_widths}};
  json operations = json::array();
  for (const Operation operation : space.operations) operations.push_back(to_string(operation));
  document["operations"] = std::move(operations);
  if (space.input == InputKind::tokens) {
    document["sequence_length"] = space.sequence_length;
    document["vocabulary"] = space.vocabulary;
  } else {
    document["image_size"] = space.image_size;
    document["patch_size"] = space.patch_size;
    document["in_channels"] = space.in_channels;
  }
  return document;
}

void check_in_space(const Architecture& architecture, const DesignSpace& space) {
  const auto outside = [](const std::string& field, const std::string& value) {
    throw InputError(fmt::format("architecture: {}: {} is not in the design space", field, value));
  };
  if (architecture.input != space.input) {
    outside("input", architecture.input == InputKind::tokens ? "tokens" : "patches");
  }
  if (architecture.input == InputKind::tokens) {
    if (architecture.sequence_length != space.sequence_length) {
      outside("sequence_length", std::to_string(architecture.sequence_length));
    }
    if (architecture.vocabulary != space.vocabulary) {
      outside("vocabulary", std::to_string(architecture.vocabulary));
    }
  } else if (architecture.image_size != space.image_size ||
             architecture.patch_size != space.patch_size ||
             architecture.in_channels != space.in_channels) {
    outside("image_size, patch_size, in_channels",
            fmt::format("{}, {}, {}", architecture.image_size, architecture.patch_size,
                        architecture.in_channels));
  }
  const auto count = static_cast<int64_t>(architecture.layers.size());
  if (!listed(space.layers, count)) outside("layers (count)", std::to_string(count));
  for (std::size_t i = 0; i < architecture.layers.size(); ++i) {
    const EncoderLayer& layer = architecture.layers[i];
    const std::string at = fmt::format("layers[{}]", i);
    if (!listed(space.hidden, layer.hidden)) outside(at + ".hidden", std::to_string(layer.hidden));
    if (!listed(heads_dividing(space, layer.hidden), layer.heads)) {
      outside(at + ".heads", std::to_string(layer.heads));
    }
    if (std::find(space.operations.begin(), space.operations.end(), layer.operation) ==
        space.operations.end()) {
      outside(at + ".operation", std::string(to_string(layer.operation)));
    }
    const auto depth = static_cast<int64_t>(layer.feed_forward.size());
    if (!listed(space.feed_forward_layers, depth)) {
      outside(at + ".feed_forward (count)", std::to_string(depth));
    }
    for (std::size_t j = 0; j < layer.feed_forward.size(); ++j) {
      if (!listed(space.feed_forward_widths, layer.feed_forward[j])) {
        outside(fmt::format("{}.feed_forward[{}]", at, j), std::to_string(layer.feed_forward[j]));
      }
    }
  }
}

std::vector<Architecture> sample_uniform(const DesignSpace& space, std::size_t count,
                                         uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Architecture> drawn;
  const std::size_t dims = dimensions(space);
  for (std::size_t i = 0; i < count; ++i) drawn.push_back(decode(space, uniform_point(dims, rng)));
  return distinct(space, std::move(drawn), count, rng);
}

std::vector<Architecture> sample_latin_hypercube(const DesignSpace& space, std::size_t count,
                                                 uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::size_t dims = dimensions(space);
  std::vector<std::vector<double>> points(count, std::vector<double>(dims));
  std::vector<std::size_t> strata(count);
  for (std::size_t d = 0; d < dims; ++d) {
    for (std::size_t i = 0; i < count; ++i) strata[i] = i;
    for (std::size_t i = count; i > 1; --i) std::swap(strata[i - 1], strata[rng() % i]);
    for (std::size_t i = 0; i < count; ++i) {
      points[i][d] = (static_cast<double>(strata[i]) + unit(rng)) / static_cast<double>(count);
    }
  }
  std::vector<Architecture> drawn;
  for (const std::vector<double>& point : points) drawn.push_back(decode(space, point));
  return distinct(space, std::move(drawn), count, rng);
}

}  // namespace tailsweep::design
