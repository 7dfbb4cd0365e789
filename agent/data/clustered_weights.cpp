#include "agent/data/clustered_weights.h"

#include <cmath>
#include <cstring>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/util/sha256.h"

namespace tailsweep::clustering {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string without_suffix(const std::string& text, const std::string& suffix) {
  return text.substr(0, text.size() - suffix.size());
}

std::vector<float> float_values(const safetensors::Tensor& tensor) {
  std::vector<float> values(static_cast<std::size_t>(tensor.numel()));
  std::memcpy(values.data(), tensor.data.data(), values.size() * sizeof(float));
  return values;
}

safetensors::Tensor u8_tensor(const std::vector<std::uint8_t>& indices,
                              std::vector<int64_t> shape) {
  safetensors::Tensor tensor;
  tensor.dtype = safetensors::DType::U8;
  tensor.shape = std::move(shape);
  tensor.data.resize(indices.size());
  std::memcpy(tensor.data.data(), indices.data(), indices.size());
  return tensor;
}

std::size_t tensor_bytes(const safetensors::File& file) {
  std::size_t bytes = 0;
  for (const auto& [name, tensor] : file.tensors) bytes += tensor.data.size();
  return bytes;
}

[[noreturn]] void refuse(const std::string& origin, const std::string& name,
                         const std::string& why) {
  throw InputError(fmt::format("{}: clustered tensor '{}': {}", origin, name, why));
}

}  // namespace

std::string tensors_sha256(const safetensors::File& file) {
  safetensors::File tensors_only;
  tensors_only.tensors = file.tensors;
  const std::vector<std::byte> bytes = safetensors::serialize(tensors_only);
  return sha256_hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool is_weight_matrix(const std::string& name, const std::vector<int64_t>& shape) {
  return ends_with(name, ".weight") && shape.size() >= 2;
}

bool is_clustered(const safetensors::File& file) {
  if (file.metadata.contains(kClusteringMetadataKey)) return true;
  for (const auto& [name, tensor] : file.tensors) {
    if (ends_with(name, kIndicesSuffix) || ends_with(name, kCodebookSuffix)) return true;
  }
  return false;
}

ClusteredFile cluster_file(const safetensors::File& dense, const ClusteringOptions& options) {
  if (is_clustered(dense)) {
    throw InputError(
        "the weights are already clustered (they hold .indices/.codebook "
        "tensors); cluster the dense weights instead");
  }
  ClusteredFile out;
  out.file.metadata = dense.metadata;
  for (const auto& [name, tensor] : dense.tensors) {
    const bool selected = options.all_tensors ? tensor.dtype == safetensors::DType::F32
                                              : is_weight_matrix(name, tensor.shape);
    if (!selected) {
      out.file.tensors.emplace(name, tensor);
      out.kept_dense.push_back(name);
      continue;
    }
    if (tensor.dtype != safetensors::DType::F32) {
      throw InputError(
          fmt::format("tensor '{}' is {}, not F32: convert the weights to float32 "
                      "before clustering",
                      name, safetensors::dtype_name(tensor.dtype)));
    }
    const std::vector<float> values = float_values(tensor);
    KMeansResult result;
    try {
      result = kmeans_1d(values, options.clusters, options.init);
    } catch (const std::invalid_argument& error) {
      throw InputError(fmt::format("tensor '{}': {}", name, error.what()));
    }
    double sum_squares = 0;
    for (const float value : values) sum_squares += static_cast<double>(value) * value;
    const auto count = static_cast<double>(values.size());
    out.clustered.push_back({name, values.size(), result.clusters_used, result.centroids.size(),
                             result.iterations, result.converged, result.squared_error / count,
                             std::sqrt(sum_squares / count)});
    out.file.tensors.emplace(name + kIndicesSuffix, u8_tensor(result.indices, tensor.shape));
    out.file.tensors.emplace(
        name + kCodebookSuffix,
        safetensors::from_float32(result.centroids,
                                  {static_cast<int64_t>(result.centroids.size())}));
  }
  out.file.metadata[kClusteringMetadataKey] = nlohmann::json{
      {"method", "k-means 1-D per tensor (Deep Compression weight sharing)"},
      {"clusters", options.clusters},
      {"init", kmeans_init_name(options.init)},
      {"selection", options.all_tensors ? "all float tensors" : "weight matrices"},
      {"clustered_tensors", out.clustered.size()}}.dump();
  out.dense_bytes = tensor_bytes(dense);
  out.clustered_bytes = tensor_bytes(out.file);
  return out;
}

safetensors::File decode_clustered(safetensors::File file, const std::string& origin) {
  std::set<std::string> clustered_names;
  for (const auto& [name, tensor] : file.tensors) {
    if (ends_with(name, kIndicesSuffix))
      clustered_names.insert(without_suffix(name, kIndicesSuffix));
    if (ends_with(name, kCodebookSuffix)) {
      clustered_names.insert(without_suffix(name, kCodebookSuffix));
    }
  }
  for (const std::string& name : clustered_names) {
    const auto indices = file.tensors.find(name + kIndicesSuffix);
    const auto codebook = file.tensors.find(name + kCodebookSuffix);
    if (indices == file.tensors.end())
      refuse(origin, name, "a codebook without its '.indices' tensor");
    if (codebook == file.tensors.end())
      refuse(origin, name, "'.indices' without its '.codebook' tensor");
    if (file.tensors.contains(name)) refuse(origin, name, "present both dense and clustered");
    if (indices->second.dtype != safetensors::DType::U8) {
      refuse(origin, name,
             fmt::format("indices are {}, not U8", safetensors::dtype_name(indices->second.dtype)));
    }
    const safetensors::Tensor& book = codebook->second;
    if (book.dtype != safetensors::DType::F32 || book.shape.size() != 1 || book.shape[0] < 1 ||
        book.shape[0] > static_cast<int64_t>(kMaxClusters)) {
      refuse(origin, name, "the codebook must be a 1-D F32 tensor of 1..256 values");
    }
    const std::vector<float> shared = float_values(book);
    for (const float value : shared) {
      if (!std::isfinite(value))
        refuse(origin, name, "the codebook holds a value that is not finite");
    }
    const std::vector<std::byte>& bytes = indices->second.data;
    std::vector<float> decoded(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const auto index = static_cast<std::size_t>(bytes[i]);
      if (index >= shared.size()) {
        refuse(origin, name,
               fmt::format("index {} at element {} is past the codebook's {} values", index, i,
                           shared.size()));
      }
      decoded[i] = shared[index];
    }
    std::vector<int64_t> shape = indices->second.shape;
    file.tensors.erase(indices);
    file.tensors.erase(codebook);
    file.tensors.emplace(name, safetensors::from_float32(decoded, std::move(shape)));
  }
  return file;
}

}  // namespace tailsweep::clustering
