#pragma once
// Clustered weights in safetensors: Tabani et al.'s 64 shared values per
// tensor, in the standard form of Deep Compression's weight sharing (the
// paper's own algorithm is not public; see docs/cluster.md). No LibTorch.
//
// A clustered tensor `name` (for example blocks.0.attn.qkv.weight) is stored
// as two tensors in place of the dense one:
//   name + ".indices"   U8, the dense tensor's shape: each weight's cluster
//   name + ".codebook"  F32, [clusters]: the shared values, ascending
// Every other tensor stays as it was (float32). The header's metadata holds
// kClusteringMetadataKey: a JSON object saying how the file was made.
#include <cstddef>
#include <string>
#include <vector>

#include "agent/data/safetensors.h"
#include "analysis/kmeans_1d.h"

namespace tailsweep::clustering {

inline constexpr const char* kIndicesSuffix = ".indices";
inline constexpr const char* kCodebookSuffix = ".codebook";
inline constexpr const char* kClusteringMetadataKey = "tailsweep_clustering";

struct ClusteringOptions {
  std::size_t clusters = 64;
  KMeansInit init = KMeansInit::kLinear;
  // Default: the matrices of every Linear layer and the patch embedding
  // (names ending in ".weight" with two or more dimensions). With
  // all_tensors, every float tensor: biases, LayerNorms, cls and pos too.
  bool all_tensors = false;
};

// Whether the default selection clusters this tensor.
bool is_weight_matrix(const std::string& name, const std::vector<int64_t>& shape);

struct ClusteredTensor {
  std::string name;
  std::size_t values = 0;
  std::size_t clusters_used = 0;
  std::size_t codebook_size = 0;
  std::size_t iterations = 0;
  bool converged = false;
  double mean_squared_error = 0;  // per value, against the dense tensor
  double rms_of_values = 0;       // the dense tensor's root mean square, for scale
};

struct ClusteredFile {
  safetensors::File file;
  std::vector<ClusteredTensor> clustered;  // in name order
  std::vector<std::string> kept_dense;     // in name order
  std::size_t dense_bytes = 0;             // tensor bytes of the input
  std::size_t clustered_bytes = 0;         // tensor bytes of the output
};

// Clusters `dense`, a float32 file (every tensor F32), tensor by tensor.
// Throws InputError naming the tensor when a selected one is not F32 or holds
// a value that is not finite, and when `dense` is already clustered.
// `metadata` entries are copied into the output's metadata, beside the
// kClusteringMetadataKey entry this function writes.
ClusteredFile cluster_file(const safetensors::File& dense, const ClusteringOptions& options);

// The SHA-256 of a file's tensors (names, dtypes, shapes and bytes; not its
// metadata, which names paths that differ between machines): the identity of
// a set of codebooks, the same from `cluster` and from clustering at load.
std::string tensors_sha256(const safetensors::File& file);

// Whether a file holds clustered tensors (an ".indices" or ".codebook" name,
// or the metadata entry).
bool is_clustered(const safetensors::File& file);

// The dense file a clustered one stands for: each indices/codebook pair
// replaced by the float32 tensor name -> codebook[index]; dense tensors kept.
// A file without clustered tensors comes back unchanged. Throws InputError
// naming `origin` and the tensor for: indices without a codebook or the other
// way round, indices that are not U8, a codebook that is not a 1-D F32 of
// 1..256 entries or holds a non-finite value, an index past the codebook's
// end, and a name present both dense and clustered.
safetensors::File decode_clustered(safetensors::File file, const std::string& origin);

}  // namespace tailsweep::clustering
