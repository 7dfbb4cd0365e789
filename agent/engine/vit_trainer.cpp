#include "agent/engine/vit_trainer.h"

#include <cmath>
#include <limits>
#include <numbers>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace tailsweep::agent {
namespace {

constexpr double kLayerNormEps = 1e-6;  // timm's ViT

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return at::layer_norm(x, {x.size(-1)}, weight, bias, kLayerNormEps);
}

// timm's Block, differentiable: pre-norm attention and MLP with residuals.
at::Tensor block_forward(const VitConfig& config, const BlockWeights& block, at::Tensor x) {
  const int64_t batch = x.size(0);
  const int64_t tokens = x.size(1);
  const int64_t heads = config.num_heads;
  const int64_t head_dim = config.head_dim();
  const at::Tensor qkv = at::linear(layer_norm(x, block.norm1_weight, block.norm1_bias),
                                    block.qkv_weight, block.qkv_bias)
                             .reshape({batch, tokens, 3, heads, head_dim})
                             .permute({2, 0, 3, 1, 4});
  const at::Tensor q = qkv[0] * (1.0 / std::sqrt(static_cast<double>(head_dim)));
  const at::Tensor attention = at::softmax(at::matmul(q, qkv[1].transpose(-2, -1)), -1);
  const at::Tensor context =
      at::matmul(attention, qkv[2]).transpose(1, 2).reshape({batch, tokens, config.embed_dim});
  x = x + at::linear(context, block.proj_weight, block.proj_bias);
  const at::Tensor hidden = at::gelu(at::linear(layer_norm(x, block.norm2_weight, block.norm2_bias),
                                                block.fc1_weight, block.fc1_bias));
  return x + at::linear(hidden, block.fc2_weight, block.fc2_bias);
}

at::Tensor training_forward(const VitConfig& config, const VitWeights& weights,
                            const at::Tensor& images) {
  const int64_t batch = images.size(0);
  at::Tensor x = at::conv2d(images, weights.patch_weight, weights.patch_bias,
                            {config.patch_size, config.patch_size})
                     .flatten(2)
                     .transpose(1, 2);
  x = at::cat({weights.cls_token.expand({batch, 1, config.embed_dim}), x}, 1) + weights.pos_embed;
  for (const BlockWeights& block : weights.blocks) x = block_forward(config, block, x);
  x = layer_norm(x, weights.norm_weight, weights.norm_bias);
  return at::linear(x.select(1, 0), weights.head_weight, weights.head_bias);
}

// Weight decay applies to matrices (rank >= 2) except the embeddings, as
// timm's no_weight_decay list: biases, norms, cls_token and pos_embed are
// not decayed.
bool decays(const std::string& name, const at::Tensor& tensor) {
  return tensor.dim() >= 2 && name != "cls_token" && name != "pos_embed";
}

double lr_at(const TrainSettings& settings, int64_t step, int64_t steps_total,
             int64_t warmup_steps) {
  if (step < warmup_steps) {
    return settings.peak_lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  }
  const double progress = static_cast<double>(step - warmup_steps) /
                          static_cast<double>(std::max<int64_t>(1, steps_total - warmup_steps));
  return settings.peak_lr * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace

VitWeights initial_training_weights(const VitConfig& config, uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  VitWeights weights;
  weights.blocks.resize(static_cast<std::size_t>(config.depth));
  for_each_parameter(
      config, weights,
      [&](const std::string& name, const std::vector<int64_t>& shape, at::Tensor& tensor) {
        tensor = at::empty(shape, at::kFloat);
        const bool is_norm = name.find("norm") != std::string::npos;
        const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
        if (name == "patch_embed.proj.weight") {
          const double fan_in = static_cast<double>(shape[1] * shape[2] * shape[3]);
          const double bound = 1.0 / std::sqrt(fan_in);
          tensor.uniform_(-bound, bound, generator);
        } else if (name == "patch_embed.proj.bias") {
          tensor.zero_();
        } else if (name == "cls_token") {
          tensor.normal_(0.0, 1e-6, generator);
        } else if (is_norm) {
          is_bias ? tensor.zero_() : tensor.fill_(1.0);
        } else if (is_bias) {
          tensor.zero_();
        } else {
          tensor.normal_(0.0, 0.02, generator);  // matrices and pos_embed
        }
      });
  return weights;
}

void train_vit(const VitConfig& config, VitWeights& weights, const TrainingData& train,
               const TrainingData* test, const TrainSettings& settings,
               const std::function<void(int64_t, int64_t)>& on_step,
               const std::function<void(const EpochReport&)>& on_epoch) {
  std::vector<at::Tensor> decayed;
  std::vector<at::Tensor> not_decayed;
  for_each_parameter(config, weights,
                     [&](const std::string& name, const std::vector<int64_t>&, at::Tensor& tensor) {
                       tensor.requires_grad_(true);
                       (decays(name, tensor) ? decayed : not_decayed).push_back(tensor);
                     });
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      decayed,
      std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(settings.peak_lr).weight_decay(settings.weight_decay)));
  groups.emplace_back(not_decayed,
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(settings.peak_lr).weight_decay(0)));
  torch::optim::AdamW optimizer(groups, torch::optim::AdamWOptions(settings.peak_lr));

  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(settings.seed + 1);
  const int64_t count = train.images.size(0);
  const int64_t steps_per_epoch = count / settings.batch;  // the ragged tail is dropped
  const int64_t steps_total = steps_per_epoch * settings.epochs;
  const auto warmup_steps = std::max<int64_t>(
      1, static_cast<int64_t>(settings.warmup_epochs * static_cast<double>(steps_per_epoch)));
  const auto loss_options =
      torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(settings.label_smoothing);
  const auto start = std::chrono::steady_clock::now();

  int64_t step = 0;
  for (int epoch = 1; epoch <= settings.epochs; ++epoch) {
    const at::Tensor order = at::randperm(count, generator, at::kLong);
    double loss_sum = 0;
    int64_t correct = 0;
    int64_t seen = 0;
    double lr = 0;
    for (int64_t batch_index = 0; batch_index < steps_per_epoch; ++batch_index, ++step) {
      const at::Tensor indices = order.narrow(0, batch_index * settings.batch, settings.batch);
      at::Tensor images = train.images.index_select(0, indices);
      const at::Tensor labels = train.labels.index_select(0, indices);
      if (settings.horizontal_flip) {
        const at::Tensor flip = at::rand({settings.batch, 1, 1, 1}, generator, at::kFloat).lt(0.5);
        images = at::where(flip, images.flip({3}), images);
      }
      lr = lr_at(settings, step, steps_total, warmup_steps);
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      }
      const at::Tensor logits = training_forward(config, weights, images);
      const at::Tensor loss = torch::nn::functional::cross_entropy(logits, labels, loss_options);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * static_cast<double>(settings.batch);
      correct += logits.detach().argmax(1).eq(labels).sum().item<int64_t>();
      seen += settings.batch;
      if (on_step) on_step(step + 1, steps_total);
    }
    EpochReport report;
    report.epoch = epoch;
    report.train_loss = loss_sum / static_cast<double>(seen);
    report.train_top1 = static_cast<double>(correct) / static_cast<double>(seen);
    report.test_top1 = test ? training_model_top1(config, weights, *test, 500)
                            : std::numeric_limits<double>::quiet_NaN();
    report.lr_end = lr;
    report.elapsed = std::chrono::steady_clock::now() - start;
    if (on_epoch) on_epoch(report);
  }
  for_each_parameter(config, weights,
                     [](const std::string&, const std::vector<int64_t>&, at::Tensor& tensor) {
                       tensor = tensor.detach().contiguous();
                     });
}

double training_model_top1(const VitConfig& config, const VitWeights& weights,
                           const TrainingData& data, int64_t batch) {
  const at::NoGradGuard no_grad;
  const int64_t count = data.images.size(0);
  int64_t correct = 0;
  for (int64_t begin = 0; begin < count; begin += batch) {
    const int64_t size = std::min(batch, count - begin);
    const at::Tensor logits = training_forward(config, weights, data.images.narrow(0, begin, size));
    correct += logits.argmax(1).eq(data.labels.narrow(0, begin, size)).sum().item<int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(count);
}

}  // namespace tailsweep::agent
