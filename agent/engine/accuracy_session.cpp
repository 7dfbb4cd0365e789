#include "agent/engine/accuracy_session.h"

#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <c10/core/InferenceMode.h>

#include "agent/engine/compute_device.h"
#include "agent/engine/eval_dataset.h"
#include "agent/engine/vit_model.h"
#include "agent/engine/vit_weights.h"

namespace tailsweep::agent {
namespace {

using Clock = std::chrono::steady_clock;

void count_correct(const at::Tensor& logits, const at::Tensor& labels, AccuracyTally& tally) {
  const int64_t k = std::min<int64_t>(5, logits.size(1));
  const at::Tensor top = std::get<1>(logits.topk(k, 1));
  const at::Tensor hits = top.eq(labels.unsqueeze(1));
  const at::Tensor first = hits.select(1, 0).to(at::kCPU).contiguous();
  const bool* correct = first.data_ptr<bool>();
  for (int64_t i = 0; i < first.size(0); ++i) tally.top1_correct.push_back(correct[i]);
  tally.top1 += first.sum().item<int64_t>();
  tally.top5 += hits.any(1).sum().item<int64_t>();
  tally.images += logits.size(0);
}

at::Tensor labels_tensor(const std::vector<int32_t>& labels, std::span<const std::size_t> indices) {
  at::Tensor out = at::empty({static_cast<int64_t>(indices.size())}, at::kLong);
  int64_t* data = out.data_ptr<int64_t>();
  for (std::size_t i = 0; i < indices.size(); ++i) data[i] = labels[indices[i]];
  return out;
}

}  // namespace

struct AccuracySession::Impl {
  Impl(const VitConfig& config, RunWeights weights, const ComputeDevice& compute_device,
       const std::string& dataset_spec, const std::string& split)
      : device(compute_device),
        clustered_sha256(std::move(weights.clustered_sha256)),
        tensor_bytes(weights.dense_tensor_bytes, weights.clustered_tensor_bytes),
        model(config, weights.weights, compute_device.torch_device()),
        dataset(open_eval_dataset(dataset_spec, split, config)) {}

  const ComputeDevice& device;
  std::string clustered_sha256;
  std::pair<std::size_t, std::size_t> tensor_bytes;
  VitModel model;
  std::unique_ptr<EvalDataset> dataset;
  at::Tensor staged;
};

AccuracySession::AccuracySession(const VitConfig& config, const ModelRunOptions& run,
                                 const ComputeDevice& device, const std::string& dataset,
                                 const std::string& split)
    : impl_(std::make_unique<Impl>(config, run_weights(config, run.weights, run.seed, run.clusters),
                                   device, dataset, split)) {}

const std::string& AccuracySession::clustered_sha256() const { return impl_->clustered_sha256; }
std::pair<std::size_t, std::size_t> AccuracySession::tensor_bytes() const {
  return impl_->tensor_bytes;
}

AccuracySession::~AccuracySession() = default;

std::string AccuracySession::dataset_name() const { return impl_->dataset->name(); }
std::string AccuracySession::split() const { return impl_->dataset->split(); }
int AccuracySession::classes() const { return impl_->dataset->classes(); }
const std::vector<int32_t>& AccuracySession::labels() const { return impl_->dataset->labels(); }

void AccuracySession::count(std::span<const std::size_t> images,
                            const std::vector<MethodSpec>& methods, uint64_t seed,
                            std::vector<AccuracyTally>& tallies) {
  const c10::InferenceMode inference;
  const c10::Device where = impl_->device.torch_device();
  const at::Tensor inputs = impl_->dataset->load(images).to(where);
  const at::Tensor labels = labels_tensor(impl_->dataset->labels(), images).to(where);
  for (std::size_t m = 0; m < methods.size(); ++m) {
    ForwardTrace trace;
    count_correct(impl_->model.forward(inputs, methods[m], {seed}, &trace), labels, tallies.at(m));
    std::vector<HdpCounts>& per_block = tallies.at(m).hdp_per_block;
    per_block.resize(trace.hdp_per_block.size());
    for (std::size_t b = 0; b < per_block.size(); ++b) per_block[b] += trace.hdp_per_block[b];
  }
}

void AccuracySession::stage_for_timing(std::span<const std::size_t> images) {
  impl_->staged = impl_->dataset->load(images).to(impl_->device.torch_device());
}

std::chrono::duration<double, std::milli> AccuracySession::time_forward(const MethodSpec& method,
                                                                        uint64_t seed) {
  const c10::InferenceMode inference;
  impl_->device.synchronize();
  const auto before = Clock::now();
  const at::Tensor logits = impl_->model.forward(impl_->staged, method, {seed});
  impl_->device.synchronize();
  return Clock::now() - before;
}

}  // namespace tailsweep::agent
