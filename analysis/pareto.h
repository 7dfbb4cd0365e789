#pragma once
// The Pareto front of methods that trade a cost (latency) for a value
// (top-1): the points no other point beats on both. Pure.
#include <cstddef>
#include <span>
#include <vector>

namespace tailsweep::stats {

struct ParetoPoint {
  double cost = 0;   // lower is better (a latency change)
  double value = 0;  // higher is better (top-1)
};

// Indices of the points that no other point dominates (cost <= and value >=,
// one of them strictly), ordered by cost, then value. Equal points are all
// on the front. Non-finite points are never on it.
std::vector<std::size_t> pareto_front(std::span<const ParetoPoint> points);

// Indices of the points that no other point dominates when every coordinate
// is a cost (<= in all, < in one), in the input's order: the design space's
// front of latency, energy and parameters. All points must have the same
// number of coordinates; a point with a non-finite one is never on it.
std::vector<std::size_t> nondominated(std::span<const std::vector<double>> costs);

}  // namespace tailsweep::stats
