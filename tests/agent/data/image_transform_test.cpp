#include "agent/data/image_transform.h"

#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::images {
namespace {

// A busy grey test card: (37x + 11y + 29 * (xy mod 7)) mod 256, so that
// resampling meets edges in both directions and clips at 0 and 255.
Image8 test_card(int64_t width, int64_t height) {
  Image8 image{height, width, 1, {}};
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      image.pixels.push_back(static_cast<uint8_t>((x * 37 + y * 11 + (x * y) % 7 * 29) % 256));
    }
  }
  return image;
}

std::vector<int> as_ints(const Image8& image) { return {image.pixels.begin(), image.pixels.end()}; }

// The expected pixels are what Pillow 9.4 (Debian's python3-pil) writes for
// Image.resize(size, Image.BICUBIC) of the same test card.
TEST(ResizeBicubicPil, ShrinkingMatchesPillowBitForBit) {
  const Image8 out = resize_bicubic_pil(test_card(13, 10), 6, 7);
  EXPECT_THAT(as_ints(out),
              ::testing::ElementsAreArray({26,  117, 124, 135, 44,  131, 123, 70,  144, 115, 91,
                                           97,  144, 108, 114, 128, 175, 106, 131, 130, 186, 103,
                                           136, 98,  63,  123, 131, 93,  87,  129, 117, 70,  100,
                                           137, 103, 137, 114, 83,  175, 148, 96,  99}));
}

TEST(ResizeBicubicPil, EnlargingMatchesPillowBitForBit) {
  const Image8 out = resize_bicubic_pil(test_card(5, 4), 9, 11);
  EXPECT_THAT(
      as_ints(out),
      ::testing::ElementsAreArray(
          {0,   3,   18,  36,  52,  67,  82,  98,  125, 153, 165, 0,   6,   24,  44,  63,  81,
           102, 122, 130, 131, 132, 2,   12,  36,  63,  86,  111, 153, 183, 142, 74,  45,  5,
           20,  50,  85,  117, 147, 188, 210, 144, 46,  4,   9,   26,  61,  106, 160, 194, 171,
           132, 116, 110, 107, 13,  32,  74,  125, 186, 215, 142, 57,  93,  176, 210, 17,  41,
           96,  140, 149, 144, 121, 99,  118, 153, 167, 20,  48,  117, 151, 92,  47,  106, 178,
           158, 101, 78,  22,  52,  126, 155, 69,  7,   99,  209, 174, 81,  43}));
}

TEST(ResizeBicubicPil, ShrinkOneAxisGrowTheOtherMatchesPillow) {
  const Image8 out = resize_bicubic_pil(test_card(13, 10), 17, 5);
  EXPECT_THAT(
      as_ints(out),
      ::testing::ElementsAreArray(
          {28,  134, 148, 50,  161, 47,  129, 121, 75,  136, 79,  123, 78,  117, 98,  98,  127,
           72,  132, 102, 104, 133, 86,  129, 123, 87,  137, 120, 102, 152, 93,  142, 131, 101,
           167, 121, 150, 119, 127, 167, 161, 168, 101, 180, 158, 169, 161, 81,  196, 132, 73,
           67,  65,  77,  65,  44,  60,  53,  47,  64,  103, 160, 46,  133, 139, 133, 155, 101,
           155, 140, 144, 106, 166, 145, 108, 132, 82,  160, 125, 86,  122, 70,  149, 112, 75}));
}

TEST(ResizeBicubicPil, SameSizeIsTheIdentity) {
  const Image8 card = test_card(9, 7);
  EXPECT_EQ(resize_bicubic_pil(card, 7, 9).pixels, card.pixels);
}

TEST(ResizeShorterSide, KeepsTheAspectAsTorchvision) {
  const Image8 wide = resize_shorter_side(test_card(13, 10), 6);
  EXPECT_EQ(wide.height, 6);
  EXPECT_EQ(wide.width, 7);  // int(6 * 13 / 10)
  const Image8 tall = resize_shorter_side(test_card(10, 13), 6);
  EXPECT_EQ(tall.height, 7);
  EXPECT_EQ(tall.width, 6);
}

TEST(CenterCrop, OffsetsRoundHalfToEvenAsPython) {
  // 13 - 4 = 9 columns spare: round(4.5) = 4 in Python, not 5.
  Image8 card = test_card(13, 6);
  const Image8 crop = center_crop(card, 4);
  EXPECT_EQ(crop.width, 4);
  EXPECT_EQ(crop.at(0, 0, 0), card.at(1, 4, 0));  // round(1.0) = 1 row, 4 columns
  EXPECT_THROW(center_crop(card, 7), InputError);
}

TEST(EvalTransform, DeitSizes) {
  EXPECT_EQ(EvalTransform{}.resize_to(), 248);  // floor(224 / 0.9)
}

TEST(EvalTransform, ConstantImageNormalisesPerChannel) {
  EvalTransform transform;
  transform.image_size = 8;
  Image8 rgb{12, 20, 3, {}};
  for (int i = 0; i < 12 * 20; ++i) {
    rgb.pixels.insert(rgb.pixels.end(), {255, 128, 0});
  }
  std::vector<float> out(3 * 8 * 8);
  apply_eval_transform(rgb, transform, out.data());
  // Bicubic weights sum to one, so a flat image stays flat through the resize.
  EXPECT_FLOAT_EQ(out[0], (1.0f - 0.485f) / 0.229f);
  EXPECT_FLOAT_EQ(out[64], (128.0f / 255.0f - 0.456f) / 0.224f);
  EXPECT_FLOAT_EQ(out[128 + 63], (0.0f - 0.406f) / 0.225f);
}

TEST(EvalTransform, RefusesAnythingButRgb) {
  std::vector<float> out(3 * 224 * 224);
  EXPECT_THROW(apply_eval_transform(test_card(300, 300), EvalTransform{}, out.data()), InputError);
}

}  // namespace
}  // namespace tailsweep::images
