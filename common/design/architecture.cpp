#include "common/design/architecture.h"

#include <cmath>

#include <fmt/format.h>

#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/util/sha256.h"

namespace tailsweep::design {
namespace {

using nlohmann::json;

// Far past the design space (12 layers of 768 at 128 tokens), near enough
// that a typo cannot ask an agent for terabytes.
constexpr int64_t kMaxLayers = 64;
constexpr int64_t kMaxHidden = 8192;
constexpr int64_t kMaxHeads = 256;
constexpr int64_t kMaxFeedForwardLayers = 3;
constexpr int64_t kMaxWidth = 65'536;
constexpr int64_t kMaxSequence = 4097;
constexpr int64_t kMaxVocabulary = 1'000'000;
constexpr int64_t kMaxImageSize = 4096;
constexpr int64_t kMaxChannels = 16;
constexpr double kMaxParameters = 2e9;

struct OperationName {
  Operation operation;
  std::string_view name;
};
constexpr OperationName kNames[] = {{Operation::sa_sdp, "sa_sdp"},
                                    {Operation::sa_wma, "sa_wma"},
                                    {Operation::l_dft, "l_dft"},
                                    {Operation::l_dct, "l_dct"}};

bool is_attention(Operation operation) {
  return operation == Operation::sa_sdp || operation == Operation::sa_wma;
}

[[noreturn]] void invalid(const std::string& field, const std::string& problem) {
  throw InputError(fmt::format("architecture: {}: {}", field, problem));
}

void check_range(int64_t value, int64_t low, int64_t high, const std::string& field) {
  if (value < low || value > high)
    invalid(field, fmt::format("{} is not in {}..{}", value, low, high));
}

// Linear layer in -> out with its bias.
double linear_parameters(double in, double out) { return in * out + out; }

// One FFT of n points, in real operations (the usual 5 n log2 n).
double fft_flops(double points) { return points > 1 ? 5 * points * std::log2(points) : 0; }

EncoderLayer parse_layer(const JsonFields& f) {
  f.reject_unknown({"hidden", "heads", "operation", "feed_forward"});
  EncoderLayer layer;
  layer.hidden = f.integer("hidden", 1);
  layer.heads = f.integer("heads", 1);
  try {
    layer.operation = parse_operation(f.text("operation"));
  } catch (const InputError& error) {
    f.fail("operation", error.what());
  }
  layer.feed_forward.clear();
  const json& widths = f.array("feed_forward", true);
  for (std::size_t i = 0; i < widths.size(); ++i) {
    if (!widths[i].is_number_integer()) {
      f.fail(fmt::format("feed_forward[{}]", i), "expected an integer");
    }
    layer.feed_forward.push_back(widths[i].get<int64_t>());
  }
  return layer;
}

}  // namespace

std::string_view to_string(Operation operation) {
  for (const OperationName& entry : kNames) {
    if (entry.operation == operation) return entry.name;
  }
  return "unknown";
}

Operation parse_operation(std::string_view name) {
  for (const OperationName& entry : kNames) {
    if (entry.name == name) return entry.operation;
  }
  throw InputError(
      fmt::format("unknown operation '{}' (known: sa_sdp, sa_wma, l_dft, l_dct)", name));
}

double Architecture::parameter_count() const {
  if (layers.empty()) return 0;
  const double first = static_cast<double>(layers.front().hidden);
  const double n = static_cast<double>(sequence_length);
  double total = 0;
  if (input == InputKind::tokens) {
    total += static_cast<double>(vocabulary) * first + n * first + 2 * first;  // and a LayerNorm
  } else {
    const double patch = static_cast<double>(in_channels * patch_size * patch_size);
    total += linear_parameters(patch, first) + first + n * first;  // patches, CLS, positions
  }
  double previous = first;
  for (const EncoderLayer& layer : layers) {
    const double h = static_cast<double>(layer.hidden);
    if (previous != h) total += linear_parameters(previous, h);
    if (is_attention(layer.operation)) total += 4 * linear_parameters(h, h);  // Q, K, V, out
    if (layer.operation == Operation::sa_wma) {
      const double d = h / static_cast<double>(layer.heads);
      total += static_cast<double>(layer.heads) * d * d;
    }
    total += 2 * 2 * h;  // two LayerNorms
    double in = h;
    for (const int64_t width : layer.feed_forward) {
      total += linear_parameters(in, static_cast<double>(width));
      in = static_cast<double>(width);
    }
    total += linear_parameters(in, h);
    previous = h;
  }
  return total;
}

double Architecture::forward_flops(int64_t batch) const {
  if (layers.empty()) return 0;
  const double b = static_cast<double>(batch);
  const double n = static_cast<double>(sequence_length);
  double macs = 0;   // multiply-accumulates
  double other = 0;  // the mixers' transforms, already in operations
  if (input == InputKind::patches) {
    macs += b * (n - 1) * static_cast<double>(in_channels * patch_size * patch_size) *
            static_cast<double>(layers.front().hidden);
  }
  double previous = static_cast<double>(layers.front().hidden);
  for (const EncoderLayer& layer : layers) {
    const double h = static_cast<double>(layer.hidden);
    if (previous != h) macs += b * n * previous * h;
    if (is_attention(layer.operation)) {
      macs += b * n * 4 * h * h;  // Q, K, V, out
      macs += 2 * b * n * n * h;  // Q K^T and the weighted sum of V, over all heads
      if (layer.operation == Operation::sa_wma) {
        macs += b * n * h * (h / static_cast<double>(layer.heads));  // Q W, per head d x d
      }
    } else {
      // A 2-D transform: one along the hidden axis per token, one along the
      // tokens per hidden unit.
      other += b * (n * fft_flops(h) + h * fft_flops(n));
    }
    double in = h;
    for (const int64_t width : layer.feed_forward) {
      macs += b * n * in * static_cast<double>(width);
      in = static_cast<double>(width);
    }
    macs += b * n * in * h;
    previous = h;
  }
  return 2 * macs + other;
}

void Architecture::validate() const {
  check_range(static_cast<int64_t>(layers.size()), 1, kMaxLayers, "layers (count)");
  if (input == InputKind::tokens) {
    check_range(sequence_length, 1, kMaxSequence, "sequence_length");
    check_range(vocabulary, 2, kMaxVocabulary, "vocabulary");
  } else {
    check_range(image_size, 1, kMaxImageSize, "image_size");
    check_range(patch_size, 1, image_size, "patch_size");
    check_range(in_channels, 1, kMaxChannels, "in_channels");
    if (image_size % patch_size != 0) {
      invalid("patch_size",
              fmt::format("{} does not divide image_size {}", patch_size, image_size));
    }
    const int64_t side = image_size / patch_size;
    if (sequence_length != side * side + 1) {
      invalid("sequence_length",
              fmt::format("{} is not the patches plus CLS ({})", sequence_length, side * side + 1));
    }
    check_range(sequence_length, 2, kMaxSequence, "sequence_length");
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const EncoderLayer& layer = layers[i];
    const std::string at = fmt::format("layers[{}]", i);
    check_range(layer.hidden, 1, kMaxHidden, at + ".hidden");
    check_range(layer.heads, 1, kMaxHeads, at + ".heads");
    if (layer.hidden % layer.heads != 0) {
      invalid(at + ".heads",
              fmt::format("{} heads do not divide hidden {}", layer.heads, layer.hidden));
    }
    check_range(static_cast<int64_t>(layer.feed_forward.size()), 1, kMaxFeedForwardLayers,
                at + ".feed_forward (count)");
    for (std::size_t j = 0; j < layer.feed_forward.size(); ++j) {
      check_range(layer.feed_forward[j], 1, kMaxWidth, fmt::format("{}.feed_forward[{}]", at, j));
    }
  }
  if (parameter_count() > kMaxParameters) {
    invalid("layers", fmt::format("{:.3g} parameters, over the limit of {:.0g}", parameter_count(),
                                  kMaxParameters));
  }
}

Architecture parse_architecture(const json& document) {
  const JsonFields f(document, "architecture");
  Architecture architecture;
  const std::string input = f.text("input");
  if (input == "tokens") {
    architecture.input = InputKind::tokens;
    f.reject_unknown({"input", "sequence_length", "vocabulary", "layers"});
    if (f.has("sequence_length")) architecture.sequence_length = f.integer("sequence_length", 1);
    if (f.has("vocabulary")) architecture.vocabulary = f.integer("vocabulary", 2);
  } else if (input == "patches") {
    architecture.input = InputKind::patches;
    f.reject_unknown({"input", "image_size", "patch_size", "in_channels", "layers"});
    if (f.has("image_size")) architecture.image_size = f.integer("image_size", 1);
    if (f.has("patch_size")) architecture.patch_size = f.integer("patch_size", 1);
    if (f.has("in_channels")) architecture.in_channels = f.integer("in_channels", 1);
    const int64_t side = architecture.patch_size > 0 && architecture.image_size > 0
                             ? architecture.image_size / architecture.patch_size
                             : 0;
    architecture.sequence_length = side * side + 1;
  } else {
    f.fail("input", fmt::format("'{}' is not tokens or patches", input));
  }
  const json& layers = f.array("layers", true);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    architecture.layers.push_back(parse_layer(f.element("layers", i, layers[i])));
  }
  architecture.validate();
  return architecture;
}

json to_json(const Architecture& architecture) {
  json document;
  if (architecture.input == InputKind::tokens) {
    document = {{"input", "tokens"},
                {"sequence_length", architecture.sequence_length},
                {"vocabulary", architecture.vocabulary}};
  } else {
    document = {{"input", "patches"},
                {"image_size", architecture.image_size},
                {"patch_size", architecture.patch_size},
                {"in_channels", architecture.in_channels}};
  }
  json layers = json::array();
  for (const EncoderLayer& layer : architecture.layers) {
    layers.push_back({{"hidden", layer.hidden},
                      {"heads", layer.heads},
                      {"operation", to_string(layer.operation)},
                      {"feed_forward", layer.feed_forward}});
  }
  document["layers"] = std::move(layers);
  return document;
}

std::string architecture_id(const Architecture& architecture) {
  // nlohmann's objects are sorted maps: dump() is canonical.
  return "arch-" + sha256_hex(to_json(architecture).dump()).substr(0, 16);
}

}  // namespace tailsweep::design
