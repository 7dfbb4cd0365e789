#include "agent/data/image_transform.h"

#include <algorithm>
#include <cfenv>
#include <cmath>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::images {
namespace {

// Pillow's libImaging/Resample.c, 8-bit path: coefficients in fixed point
// with 32 - 8 - 2 fractional bits.
constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr double kBicubicSupport = 2.0;

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// For each output pixel along one axis: the first input pixel, how many
// input pixels it reads, and their fixed-point weights.
struct AxisCoefficients {
  int64_t taps = 0;              // weights per output pixel (ksize)
  std::vector<int64_t> first;    // xmin per output pixel
  std::vector<int64_t> count;    // xmax per output pixel
  std::vector<int32_t> weights;  // out * taps
};

AxisCoefficients precompute_coefficients(int64_t in_size, int64_t out_size) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = kBicubicSupport * filter_scale;
  AxisCoefficients axis;
  axis.taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  axis.first.resize(static_cast<std::size_t>(out_size));
  axis.count.resize(static_cast<std::size_t>(out_size));
  axis.weights.assign(static_cast<std::size_t>(out_size * axis.taps), 0);
  std::vector<double> k(static_cast<std::size_t>(axis.taps));
  for (int64_t xx = 0; xx < out_size; ++xx) {
    const double center = (static_cast<double>(xx) + 0.5) * scale;
    const double ss = 1.0 / filter_scale;
    // Truncation toward zero, as Pillow's (int) casts.
    const int64_t xmin = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t xmax =
        std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size) - xmin;
    double sum = 0.0;
    for (int64_t x = 0; x < xmax; ++x) {
      k[static_cast<std::size_t>(x)] =
          bicubic_filter((static_cast<double>(x + xmin) - center + 0.5) * ss);
      sum += k[static_cast<std::size_t>(x)];
    }
    for (int64_t x = 0; x < xmax; ++x) {
      double w = k[static_cast<std::size_t>(x)];
      if (sum != 0.0) w /= sum;
      const double fixed = w * static_cast<double>(1 << kPrecisionBits);
      axis.weights[static_cast<std::size_t>(xx * axis.taps + x)] =
          static_cast<int32_t>(w < 0 ? -0.5 + fixed : 0.5 + fixed);
    }
    axis.first[static_cast<std::size_t>(xx)] = xmin;
    axis.count[static_cast<std::size_t>(xx)] = xmax;
  }
  return axis;
}

uint8_t clip8(int64_t accumulator) {
  // Arithmetic shift (floor), then clamp: Pillow's clip8 lookup table.
  return static_cast<uint8_t>(std::clamp<int64_t>(accumulator >> kPrecisionBits, 0, 255));
}

// One pass along x (horizontal) or y, reading rows [row_offset, ...) of in.
Image8 resample_horizontal(const Image8& in, int64_t out_width, int64_t row_offset, int64_t rows,
                           const AxisCoefficients& axis) {
  Image8 out{rows, out_width, in.channels, {}};
  out.pixels.resize(static_cast<std::size_t>(rows * out_width * in.channels));
  for (int64_t y = 0; y < rows; ++y) {
    for (int64_t xx = 0; xx < out_width; ++xx) {
      const auto i = static_cast<std::size_t>(xx);
      const int32_t* k = &axis.weights[static_cast<std::size_t>(xx * axis.taps)];
      for (int64_t c = 0; c < in.channels; ++c) {
        int64_t ss = int64_t{1} << (kPrecisionBits - 1);
        for (int64_t x = 0; x < axis.count[i]; ++x) {
          ss += int64_t{in.at(y + row_offset, x + axis.first[i], c)} * k[x];
        }
        out.pixels[static_cast<std::size_t>((y * out_width + xx) * in.channels + c)] = clip8(ss);
      }
    }
  }
  return out;
}

Image8 resample_vertical(const Image8& in, int64_t out_height, int64_t first_row_shift,
                         const AxisCoefficients& axis) {
  Image8 out{out_height, in.width, in.channels, {}};
  out.pixels.resize(static_cast<std::size_t>(out_height * in.width * in.channels));
  for (int64_t yy = 0; yy < out_height; ++yy) {
    const auto i = static_cast<std::size_t>(yy);
    const int32_t* k = &axis.weights[static_cast<std::size_t>(yy * axis.taps)];
    const int64_t first = axis.first[i] - first_row_shift;
    for (int64_t x = 0; x < in.width; ++x) {
      for (int64_t c = 0; c < in.channels; ++c) {
        int64_t ss = int64_t{1} << (kPrecisionBits - 1);
        for (int64_t y = 0; y < axis.count[i]; ++y) {
          ss += int64_t{in.at(y + first, x, c)} * k[y];
        }
        out.pixels[static_cast<std::size_t>((yy * in.width + x) * in.channels + c)] = clip8(ss);
      }
    }
  }
  return out;
}

void check_image(const Image8& image) {
  if (image.height <= 0 || image.width <= 0 || image.channels <= 0 ||
      image.pixels.size() !=
          static_cast<std::size_t>(image.height * image.width * image.channels)) {
    throw InputError(fmt::format("image of {}x{}x{} has {} bytes", image.height, image.width,
                                 image.channels, image.pixels.size()));
  }
}

// Python's round(): half to even.
int64_t round_half_even(double value) {
  const int previous = std::fegetround();
  std::fesetround(FE_TONEAREST);
  const double rounded = std::nearbyint(value);
  std::fesetround(previous);
  return static_cast<int64_t>(rounded);
}

}  // namespace

Image8 resize_bicubic_pil(const Image8& image, int64_t out_height, int64_t out_width) {
  check_image(image);
  if (out_height <= 0 || out_width <= 0) {
    throw InputError(fmt::format("cannot resize to {}x{}", out_height, out_width));
  }
  const bool horizontal = out_width != image.width;
  const bool vertical = out_height != image.height;
  const AxisCoefficients rows = precompute_coefficients(image.height, out_height);
  // As Pillow: the horizontal pass only computes the rows the vertical pass reads.
  const int64_t first_row = rows.first.front();
  const int64_t last_row = rows.first.back() + rows.count.back();
  Image8 result = image;
  int64_t row_shift = 0;
  if (horizontal) {
    const AxisCoefficients columns = precompute_coefficients(image.width, out_width);
    result = resample_horizontal(image, out_width, first_row, last_row - first_row, columns);
    row_shift = first_row;
  }
  if (vertical) result = resample_vertical(result, out_height, row_shift, rows);
  return result;
}

Image8 resize_shorter_side(const Image8& image, int64_t shorter) {
  check_image(image);
  const bool wide = image.width >= image.height;
  const int64_t short_side = wide ? image.height : image.width;
  const int64_t long_side = wide ? image.width : image.height;
  const int64_t new_long = shorter * long_side / short_side;  // int(shorter * long / short)
  if (short_side == shorter) return image;  // torchvision returns the image unchanged
  return wide ? resize_bicubic_pil(image, shorter, new_long)
              : resize_bicubic_pil(image, new_long, shorter);
}

Image8 center_crop(const Image8& image, int64_t size) {
  check_image(image);
  if (image.height < size || image.width < size) {
    throw InputError(fmt::format("image of {}x{} is smaller than the {}x{} crop", image.height,
                                 image.width, size, size));
  }
  const int64_t top = round_half_even(static_cast<double>(image.height - size) / 2.0);
  const int64_t left = round_half_even(static_cast<double>(image.width - size) / 2.0);
  Image8 out{size, size, image.channels, {}};
  out.pixels.resize(static_cast<std::size_t>(size * size * image.channels));
  const auto row_bytes = static_cast<std::size_t>(size * image.channels);
  for (int64_t y = 0; y < size; ++y) {
    const auto from = static_cast<std::size_t>(((top + y) * image.width + left) * image.channels);
    std::copy_n(
        image.pixels.begin() + static_cast<std::ptrdiff_t>(from), row_bytes,
        out.pixels.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(y) * row_bytes));
  }
  return out;
}

int64_t EvalTransform::resize_to() const {
  // timm: scale_size = math.floor(img_size / crop_pct)
  return static_cast<int64_t>(std::floor(static_cast<double>(image_size) / crop_pct));
}

void apply_eval_transform(const Image8& rgb, const EvalTransform& transform, float* out) {
  if (rgb.channels != 3) {
    throw InputError(
        fmt::format("the ImageNet transform needs RGB, got {} channels", rgb.channels));
  }
  const Image8 cropped =
      center_crop(resize_shorter_side(rgb, transform.resize_to()), transform.image_size);
  const int64_t plane = transform.image_size * transform.image_size;
  for (int64_t c = 0; c < 3; ++c) {
    const float mean = transform.mean[static_cast<std::size_t>(c)];
    const float std = transform.std[static_cast<std::size_t>(c)];
    for (int64_t p = 0; p < plane; ++p) {
      // torchvision's order of operations in float32: x / 255, then (x - mean) / std.
      const float value =
          static_cast<float>(cropped.pixels[static_cast<std::size_t>(p * 3 + c)]) / 255.0f;
      out[c * plane + p] = (value - mean) / std;
    }
  }
}

}  // namespace tailsweep::images
