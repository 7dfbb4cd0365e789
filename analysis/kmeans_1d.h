#pragma once
// One-dimensional k-means for weight clustering (Deep Compression's weight
// sharing; Tabani et al. use 64 clusters per tensor). Pure: no I/O.
//
// The values are sorted once; in one dimension every cluster is then a run of
// consecutive sorted values, its boundaries the midpoints between neighbouring
// centroids, so one Lloyd step is k binary searches and k range means from
// prefix sums: O(k log n) a step after an O(n log n) sort. Lloyd's steps repeat
// until no value changes cluster (the boundaries stop moving) or
// max_iterations is reached.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tailsweep::clustering {

inline constexpr std::size_t kMinClusters = 2;
inline constexpr std::size_t kMaxClusters = 256;  // an index fits one byte

// Deterministic initialisations; neither uses a random seed, so the same
// tensor always gives the same codebook.
//   linear:   k centroids spaced evenly between the smallest and largest value.
//             Deep Compression (Han et al. 2016, section 3.1) found it the best
//             of the three it tried, because it keeps the rare large weights.
//   quantile: the centroid of cluster i starts at the (i + 1/2)/k quantile
//             (density-based: dense regions get more centroids). Where one
//             value fills more than 1/k of the tensor, several centroids start
//             equal and all but one stay empty (clusters_used says so).
enum class KMeansInit { kLinear, kQuantile };
KMeansInit parse_kmeans_init(const std::string& name);  // std::invalid_argument otherwise
const char* kmeans_init_name(KMeansInit init);

struct KMeansResult {
  // Ascending: k of them (some may own no value), or one per distinct value
  // when the values have k or fewer.
  std::vector<float> centroids;
  std::vector<std::uint8_t> indices;  // per input value, in input order
  std::size_t iterations = 0;         // Lloyd steps taken
  bool converged = false;             // no value changed cluster in the last step
  std::size_t clusters_used = 0;      // centroids that own at least one value
  double squared_error = 0;           // sum over values of (value - its centroid)^2
};

// k in [kMinClusters, kMaxClusters]; values non-empty and finite. A cluster
// left empty by a step keeps its centroid (it owns no value and changes no
// assignment); with fewer distinct values than k every value becomes exact.
// Throws std::invalid_argument otherwise.
KMeansResult kmeans_1d(std::span<const float> values, std::size_t k, KMeansInit init,
                       std::size_t max_iterations = 100000);  // deit-small: <= 3,600 at k <= 256

}  // namespace tailsweep::clustering
