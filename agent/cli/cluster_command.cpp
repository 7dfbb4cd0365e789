// tailsweep-agent cluster: k shared values per weight tensor (docs/cluster.md).
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/cli/commands.h"
#include "agent/engine/clustering_run.h"

namespace tailsweep::agent {
namespace {

void run_cluster(const ClusterRequest& request) {
  const nlohmann::json report = run_clustering(request);
  // The report on stdout, for scripts; one line for people on stderr.
  fmt::print("{}\n", report.dump());
  fmt::print(
      stderr,
      "clustered {} tensors to {} values each ({} not converged): tensor bytes {} -> {} "
      "({:.2f}x smaller), {:.2f} s; wrote {}\n",
      report["clustered_count"].get<std::size_t>(), request.clusters,
      report["not_converged"].get<std::size_t>(), report["tensor_bytes_dense"].get<std::size_t>(),
      report["tensor_bytes_clustered"].get<std::size_t>(),
      report["tensor_bytes_dense"].get<double>() / report["tensor_bytes_clustered"].get<double>(),
      report["clustering_s"].get<double>(), request.out);
}

}  // namespace

void register_cluster_command(CLI::App& app) {
  auto options = std::make_shared<ClusterRequest>();
  CLI::App* command = app.add_subcommand(
      "cluster",
      "Cluster a model's weights to k shared values per tensor (1-D k-means, Deep Compression's "
      "weight sharing) and write them as uint8 indices plus a float32 codebook per tensor; "
      "every command's --weights reads the result (docs/cluster.md).");
  command->footer(
      "Example:\n  tailsweep-agent cluster --model fmnist-vit --weights W.safetensors --clusters "
      "64 --out W-k64.safetensors");
  add_model_run_options(command, options->run, "seed for random weights");
  command->add_option("--clusters", options->clusters, "shared values per tensor, 2..256")
      ->capture_default_str()
      ->check(CLI::Range(2, 256));
  command->add_option("--init", options->init, "k-means initialisation: linear | quantile")
      ->capture_default_str()
      ->check(CLI::IsMember({"linear", "quantile"}));
  command->add_flag("--all", options->all_tensors,
                    "cluster every float tensor (default: the Linear layers' and the patch "
                    "embedding's weight matrices; biases, LayerNorms, cls and pos stay float32)");
  command->add_option("--out", options->out, "the clustered safetensors file to write")->required();
  command->callback([options] { run_cluster(*options); });
}

}  // namespace tailsweep::agent
