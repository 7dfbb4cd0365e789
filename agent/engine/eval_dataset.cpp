#include "agent/engine/eval_dataset.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "agent/engine/accuracy_session.h"
#ifdef TAILSWEEP_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#endif

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "agent/data/idx.h"
#include "agent/data/image_transform.h"
#include "agent/engine/image_data.h"
#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

namespace fs = std::filesystem;

class FashionMnist final : public EvalDataset {
 public:
  FashionMnist(const fs::path& dir, const std::string& split)
      : set_(datasets::read_fashion_mnist(dir, split)),
        split_(split),
        labels_(set_.labels.begin(), set_.labels.end()) {}

  std::string name() const override { return "fashion-mnist"; }
  std::string split() const override { return split_; }
  int classes() const override { return set_.classes; }
  const std::vector<int32_t>& labels() const override { return labels_; }
  at::Tensor load(std::span<const std::size_t> indices) const override {
    return normalised_grey_images(set_, indices);
  }

 private:
  datasets::ImageSet set_;
  std::string split_;
  std::vector<int32_t> labels_;
};

bool is_image_file(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::set<std::string> kExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".webp"};
  return kExtensions.count(extension) > 0;
}

// torchvision's ImageFolder: classes are the sub-folders in sorted order, an
// image's class is the folder it is under (at any depth).
class ImageFolder final : public EvalDataset {
 public:
  ImageFolder(const fs::path& root, const VitConfig& config) : root_(root) {
    transform_.image_size = config.image_size;
    if (!fs::is_directory(root)) {
      throw InputError(fmt::format("imagenet-folder: {} is not a folder", root.string()));
    }
    std::vector<fs::path> class_dirs;
    for (const auto& entry : fs::directory_iterator(root)) {
      if (entry.is_directory()) class_dirs.push_back(entry.path());
    }
    std::sort(class_dirs.begin(), class_dirs.end());
    if (class_dirs.empty()) {
      throw InputError(fmt::format(
          "imagenet-folder: {} has no class sub-folders (expected one folder per class)",
          root.string()));
    }
    classes_ = static_cast<int>(class_dirs.size());
    for (int32_t label = 0; label < classes_; ++label) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::recursive_directory_iterator(class_dirs[label])) {
        if (entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (auto& file : files) {
        files_.push_back(std::move(file));
        labels_.push_back(label);
      }
    }
    if (files_.empty()) {
      throw InputError(fmt::format("imagenet-folder: no JPEG/PNG images under {}", root.string()));
    }
    if (classes_ != config.num_classes) {
      throw InputError(fmt::format("imagenet-folder: {} has {} classes but model {} has {}",
                                   root.string(), classes_, config.name, config.num_classes));
    }
  }

  std::string name() const override { return "imagenet-folder:" + root_.string(); }
  std::string split() const override { return root_.filename().string(); }
  int classes() const override { return classes_; }
  const std::vector<int32_t>& labels() const override { return labels_; }

  at::Tensor load(std::span<const std::size_t> indices) const override {
    const int64_t size = transform_.image_size;
    at::Tensor batch = at::empty({static_cast<int64_t>(indices.size()), 3, size, size}, at::kFloat);
    float* out = batch.data_ptr<float>();
    // Decoding dominates; images are independent, so decode them in parallel.
    at::parallel_for(0, static_cast<int64_t>(indices.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        images::apply_eval_transform(decode_rgb(files_[indices[static_cast<std::size_t>(i)]]),
                                     transform_, out + i * 3 * size * size);
      }
    });
    return batch;
  }

 private:
  static images::Image8 decode_rgb(const fs::path& file) {
#ifndef TAILSWEEP_HAVE_OPENCV
    throw InputError(
        fmt::format("cannot decode image {}: this tailsweep-agent was built without "
                    "OpenCV (-DTAILSWEEP_WITH_OPENCV=OFF)",
                    file.string()));
#else
    // PIL ignores EXIF orientation in timm's loader; so do we.
    const cv::Mat bgr = cv::imread(file.string(), cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
    if (bgr.empty() || bgr.type() != CV_8UC3) {
      throw InputError(fmt::format("cannot decode image {}", file.string()));
    }
    images::Image8 rgb{bgr.rows, bgr.cols, 3, {}};
    rgb.pixels.resize(static_cast<std::size_t>(bgr.rows) * static_cast<std::size_t>(bgr.cols) * 3);
    for (int y = 0; y < bgr.rows; ++y) {
      const uint8_t* row = bgr.ptr<uint8_t>(y);
      uint8_t* dst = rgb.pixels.data() + static_cast<std::size_t>(y) * bgr.cols * 3;
      for (int x = 0; x < bgr.cols; ++x) {
        dst[3 * x + 0] = row[3 * x + 2];
        dst[3 * x + 1] = row[3 * x + 1];
        dst[3 * x + 2] = row[3 * x + 0];
      }
    }
    return rgb;
#endif
  }

  fs::path root_;
  images::EvalTransform transform_;
  int classes_ = 0;
  std::vector<fs::path> files_;
  std::vector<int32_t> labels_;
};

void require_input_shape(const VitConfig& config, int64_t channels, int64_t size,
                         const std::string& dataset) {
  if (config.in_channels != channels || config.image_size != size) {
    throw InputError(fmt::format("model {} takes {}x{}x{} images; {} gives {}x{}x{}", config.name,
                                 config.in_channels, config.image_size, config.image_size, dataset,
                                 channels, size, size));
  }
}

}  // namespace

std::unique_ptr<EvalDataset> open_eval_dataset(const std::string& spec, const std::string& split,
                                               const VitConfig& config) {
  constexpr std::string_view kFashion = "fashion-mnist";
  constexpr std::string_view kFolder = "imagenet-folder:";
  if (spec == kFashion || spec.rfind(std::string(kFashion) + ":", 0) == 0) {
    const std::string dir = spec == kFashion ? std::string(datasets::kFashionMnistDir)
                                             : spec.substr(kFashion.size() + 1);
    if (split != "train" && split != "test") {
      throw InputError(fmt::format("fashion-mnist has splits train and test, not '{}'", split));
    }
    require_input_shape(config, 1, 28, "fashion-mnist");
    if (config.num_classes != 10) {
      throw InputError(fmt::format("model {} has {} classes; fashion-mnist has 10", config.name,
                                   config.num_classes));
    }
    return std::make_unique<FashionMnist>(dir, split);
  }
  if (spec.rfind(kFolder, 0) == 0) {
    if (config.in_channels != 3) {
      throw InputError(fmt::format("model {} takes {}-channel images; an image folder gives RGB",
                                   config.name, config.in_channels));
    }
    return std::make_unique<ImageFolder>(spec.substr(kFolder.size()), config);
  }
  throw InputError(fmt::format("unknown dataset '{}' (known: {})", spec, kDatasetSpecHelp));
}

}  // namespace tailsweep::agent
