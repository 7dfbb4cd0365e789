#pragma once
// timm's evaluation transform for DeiT, reimplemented exactly:
//   Resize(floor(size / crop_pct)) on the shorter side, bicubic, as PIL does
//   it (antialiased: the filter widens with the scale factor; 8-bit fixed
//   point; horizontal pass first, each pass rounded to 8 bits),
//   CenterCrop(size) with Python's round-half-even offsets,
//   ToTensor (/255) and Normalize(mean, std).
// OpenCV's INTER_CUBIC is not antialiased and gives different pixels when
// shrinking, which moves ImageNet top-1 by a few tenths of a percent; the
// accuracy tables are compared with timm's, so the transform is PIL's.
// Pure functions on 8-bit interleaved images: no OpenCV, no LibTorch.
#include <array>
#include <cstdint>
#include <vector>

namespace tailsweep::images {

// 8-bit interleaved (HWC) pixels.
struct Image8 {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels

  uint8_t at(int64_t y, int64_t x, int64_t c) const {
    return pixels[static_cast<std::size_t>((y * width + x) * channels + c)];
  }
};

// PIL's Image.resize(..., BICUBIC) for 8-bit images, bit for bit.
Image8 resize_bicubic_pil(const Image8& image, int64_t out_height, int64_t out_width);

// torchvision's Resize(int): the shorter side becomes `shorter`, the longer
// int(shorter * long / short), aspect kept.
Image8 resize_shorter_side(const Image8& image, int64_t shorter);

// torchvision's CenterCrop(size) on an image at least size x size.
Image8 center_crop(const Image8& image, int64_t size);

struct EvalTransform {
  int64_t image_size = 224;
  double crop_pct = 0.9;  // timm's DeiT configs: resize to floor(224 / 0.9) = 248
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // ImageNet
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};

  int64_t resize_to() const;
};

// The whole transform for an RGB image; writes channels-first floats
// (3 x size x size) to out.
void apply_eval_transform(const Image8& rgb, const EvalTransform& transform, float* out);

}  // namespace tailsweep::images
