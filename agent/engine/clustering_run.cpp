#include "agent/engine/clustering_run.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/data/clustered_weights.h"
#include "agent/engine/tensor_io.h"
#include "agent/engine/vit_weights.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"

namespace tailsweep::agent {

nlohmann::json run_clustering(const ClusterRequest& request) {
  const VitConfig config = parse_model_spec(request.run.model);
  clustering::ClusteringOptions options;
  options.clusters = request.clusters;
  options.all_tensors = request.all_tensors;
  try {
    options.init = clustering::parse_kmeans_init(request.init);
  } catch (const std::invalid_argument& error) {
    throw InputError(error.what());
  }
  if (options.clusters < clustering::kMinClusters || options.clusters > clustering::kMaxClusters) {
    throw InputError(fmt::format("--clusters must be in 2..256, got {}", options.clusters));
  }
  // Refused before loading: load_weights would decode a clustered file, and
  // clustering its decoded values again would only lose more.
  if (!request.run.weights.empty() &&
      clustering::is_clustered(read_safetensors(request.run.weights))) {
    throw InputError(fmt::format("{}: already clustered; cluster the dense weights instead",
                                 request.run.weights));
  }
  const safetensors::File dense =
      weights_file(config, load_or_random_weights(config, request.run.weights, request.run.seed));

  const auto start = std::chrono::steady_clock::now();
  clustering::ClusteredFile clustered = clustering::cluster_file(dense, options);
  const std::chrono::duration<double> clustering_time = std::chrono::steady_clock::now() - start;
  std::string& provenance = clustered.file.metadata[clustering::kClusteringMetadataKey];
  nlohmann::json how = nlohmann::json::parse(provenance);
  how["model"] = config.name;
  how["source"] = request.run.weights_label();
  provenance = how.dump();
  write_safetensors(request.out, clustered.file);

  nlohmann::json tensors = nlohmann::json::array();
  std::size_t not_converged = 0;
  for (const clustering::ClusteredTensor& tensor : clustered.clustered) {
    not_converged += !tensor.converged;
    tensors.push_back(
        {{"name", tensor.name},
         {"values", tensor.values},
         {"codebook_size", tensor.codebook_size},
         {"clusters_used", tensor.clusters_used},
         {"iterations", tensor.iterations},
         {"converged", tensor.converged},
         {"mean_squared_error", tensor.mean_squared_error},
         {"relative_rms_error", tensor.rms_of_values > 0
                                    ? std::sqrt(tensor.mean_squared_error) / tensor.rms_of_values
                                    : 0.0}});
  }
  return {
      {"model", config.name},
      {"weights", request.run.weights_label()},
      {"clusters", options.clusters},
      {"init", clustering::kmeans_init_name(options.init)},
      {"selection", options.all_tensors ? "all" : "matrices"},
      {"clustered", tensors},
      {"clustered_count", clustered.clustered.size()},
      {"not_converged", not_converged},
      {"kept_dense", clustered.kept_dense},
      {"tensor_bytes_dense", clustered.dense_bytes},
      {"tensor_bytes_clustered", clustered.clustered_bytes},
      {"file_bytes", std::filesystem::file_size(request.out)},
      {"clustered_weights_sha256", clustering::tensors_sha256(clustered.file)},
      {"clustering_s", clustering_time.count()},
      {"out", request.out},
  };
}

}  // namespace tailsweep::agent
