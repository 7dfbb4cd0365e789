#include "agent/engine/vit_weights.h"

#include <cstring>
#include <set>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "agent/data/clustered_weights.h"
#include "agent/data/safetensors.h"
#include "agent/engine/tensor_io.h"
#include "agent/engine/weights_check.h"
#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

VitWeights random_weights(const VitConfig& config, uint64_t seed) {
  config.validate();
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  VitWeights weights;
  weights.blocks.resize(static_cast<std::size_t>(config.depth));
  for_each_parameter(
      config, weights,
      [&](const std::string& name, const std::vector<int64_t>& shape, at::Tensor& slot) {
        const bool is_norm = name.find("norm") != std::string::npos;
        if (is_norm && ends_with(name, ".weight")) {
          slot = 1.0 + 0.1 * at::normal(0.0, 1.0, shape, generator);
        } else {
          slot = at::normal(0.0, 0.02, shape, generator);
        }
      });
  return weights;
}

VitWeights load_weights(const VitConfig& config, const std::filesystem::path& path) {
  return weights_from_file(config, read_safetensors(path), path.string());
}

VitWeights weights_from_file(const VitConfig& config, const safetensors::File& stored,
                             const std::string& origin) {
  config.validate();
  // A clustered file is decoded at load: the dense model it stands for,
  // checked name by name and shape by shape like any dense file. Its indices
  // and codebooks are kept too, for the lookup kernel.
  const safetensors::File file = clustering::decode_clustered(stored, origin);
  VitWeights weights;
  for (const auto& [name, tensor] : stored.tensors) {
    if (!name.ends_with(clustering::kIndicesSuffix)) continue;
    const std::string matrix = name.substr(0, name.size() - std::strlen(clustering::kIndicesSuffix));
    at::Tensor indices = at::empty(tensor.shape, at::kByte);
    std::memcpy(indices.data_ptr<std::uint8_t>(), tensor.data.data(), tensor.data.size());
    weights.clustered[matrix] = {
        indices, to_aten_float(stored.tensors.at(matrix + clustering::kCodebookSuffix), matrix)};
  }
  weights.blocks.resize(static_cast<std::size_t>(config.depth));
  std::set<std::string> expected;
  for_each_parameter(
      config, weights,
      [&](const std::string& name, const std::vector<int64_t>& shape, at::Tensor& slot) {
        expected.insert(name);
        const auto found = file.tensors.find(name);
        if (found == file.tensors.end()) {
          throw InputError(
              fmt::format("{}: missing tensor '{}' for model {} (weights for another "
                          "model or depth?)",
                          origin, name, config.name));
        }
        if (found->second.shape != shape) {
          throw InputError(fmt::format("{}: tensor '{}' has shape [{}] but model {} needs [{}]",
                                       origin, name, fmt::join(found->second.shape, ", "),
                                       config.name, fmt::join(shape, ", ")));
        }
        slot = to_aten_float(found->second, fmt::format("{}: {}", origin, name));
      });
  for (const auto& [name, tensor] : file.tensors) {
    if (!expected.contains(name)) {
      throw InputError(fmt::format("{}: unexpected tensor '{}' for model {} (depth {})",
                                   origin, name, config.name, config.depth));
    }
  }
  return weights;
}

void check_weights_file(const VitConfig& config, const std::filesystem::path& path) {
  (void)load_weights(config, path);
}

VitWeights load_or_random_weights(const VitConfig& config, const std::string& path, uint64_t seed) {
  return path.empty() ? random_weights(config, seed) : load_weights(config, path);
}

safetensors::File weights_file(const VitConfig& config, const VitWeights& weights) {
  safetensors::File file;
  file.metadata["format"] = "pt";
  file.metadata["tailsweep_model"] = config.name;
  for_each_parameter(
      config, weights,
      [&](const std::string& name, const std::vector<int64_t>&, const at::Tensor& slot) {
        file.tensors.emplace(name, from_aten_float(slot));
      });
  return file;
}

RunWeights run_weights(const VitConfig& config, const std::string& path, uint64_t seed,
                       int64_t clusters) {
  VitWeights dense = load_or_random_weights(config, path, seed);
  if (clusters == 0) return {std::move(dense), ""};
  return cluster_at_load(config, dense, path.empty() ? "random weights" : path, clusters);
}

RunWeights cluster_at_load(const VitConfig& config, const VitWeights& dense,
                           const std::string& source, int64_t clusters) {
  if (clusters < static_cast<int64_t>(clustering::kMinClusters) ||
      clusters > static_cast<int64_t>(clustering::kMaxClusters)) {
    throw InputError(fmt::format("--clusters must be 0 (as given) or in 2..256, got {}", clusters));
  }
  if (!dense.clustered.empty()) {
    throw InputError(
        fmt::format("{}: already clustered; clustering at load needs dense weights", source));
  }
  const clustering::ClusteredFile clustered = clustering::cluster_file(
      weights_file(config, dense), {.clusters = static_cast<std::size_t>(clusters)});
  return {weights_from_file(config, clustered.file,
                            fmt::format("{} clustered to {}", source, clusters)),
          clustering::tensors_sha256(clustered.file), clustered.dense_bytes,
          clustered.clustered_bytes};
}

void save_weights(const VitConfig& config, const VitWeights& weights,
                  const std::filesystem::path& path) {
  write_safetensors(path, weights_file(config, weights));
}

}  // namespace tailsweep::agent
