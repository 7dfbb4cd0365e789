#include "agent/data/idx.h"

#include <zlib.h>

#include <array>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../support/idx_files.h"
#include "../../support/temp_dir.h"
#include "agent/data/subset.h"
#include "common/util/errors.h"

namespace tailsweep::datasets {
namespace {

using tailsweep::testing::idx_bytes;
using tailsweep::testing::write_plain;
using ::testing::HasSubstr;

void write_gzip(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(file);
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    parse_idx(bytes, "f.idx");
  } catch (const InputError& error) {
    return error.what();
  }
  return "accepted";
}

TEST(Idx, ParsesDimensionsBigEndianAndData) {
  std::vector<uint8_t> data(2 * 2 * 3);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  const IdxArray array = parse_idx(idx_bytes({2, 2, 3}, data), "x");
  EXPECT_EQ(array.dims, (std::vector<uint32_t>{2, 2, 3}));
  EXPECT_EQ(array.data, data);
  EXPECT_EQ(parse_idx(idx_bytes({70000}, std::vector<uint8_t>(70000)), "x").dims[0], 70000u);
}

TEST(Idx, RefusesEveryMalformedHeaderNamingTheFile) {
  EXPECT_THAT(parse_error({0, 0}), HasSubstr("f.idx: 2 bytes, too short"));
  EXPECT_THAT(parse_error({1, 0, 8, 1, 0, 0, 0, 0}), HasSubstr("bad IDX magic"));
  EXPECT_THAT(parse_error(idx_bytes({1}, {0}, 0x0D)), HasSubstr("type 0x0d"));
  EXPECT_THAT(parse_error({0, 0, 8, 0}), HasSubstr("no dimensions"));
  EXPECT_THAT(parse_error({0, 0, 8, 2, 0, 0, 0, 1}), HasSubstr("truncated IDX header"));
  EXPECT_THAT(parse_error(idx_bytes({2, 3}, std::vector<uint8_t>(5))),
              HasSubstr("say 6 bytes of data, the file has 5"));
  EXPECT_THAT(parse_error(idx_bytes({2, 3}, std::vector<uint8_t>(7))),
              HasSubstr("say 6 bytes of data, the file has 7"));
}

TEST(Idx, ReadsGzippedAndPlainFilesAndRefusesCorruptOnes) {
  testing::TempDir dir("tailsweep-idx");
  const auto bytes = idx_bytes({3, 2}, {1, 2, 3, 4, 5, 6});
  write_gzip(dir / "a.idx.gz", bytes);
  write_plain(dir / "b.idx", bytes);
  EXPECT_EQ(read_idx_file(dir / "a.idx.gz").data, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(read_idx_file(dir / "b.idx").dims, (std::vector<uint32_t>{3, 2}));
  // A gzip stream cut short: zlib notices, and the message names the file.
  std::vector<uint8_t> big(5000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  write_gzip(dir / "c.idx.gz", idx_bytes({5000}, big));
  std::filesystem::resize_file(dir / "c.idx.gz", std::filesystem::file_size(dir / "c.idx.gz") / 2);
  try {
    read_idx_file(dir / "c.idx.gz");
    ADD_FAILURE() << "accepted a truncated gzip file";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("c.idx.gz"));
  }
  EXPECT_THROW(read_idx_file(dir / "absent.gz"), InputError);
}

class FakeFashionMnist : public ::testing::Test {
 protected:
  void write_split(const std::string& stem, uint32_t images, uint32_t labels_count,
                   uint8_t max_label = 9) {
    std::vector<uint8_t> pixels(images * 4);
    std::vector<uint8_t> labels(labels_count);
    for (std::size_t i = 0; i < labels.size(); ++i)
      labels[i] = static_cast<uint8_t>(i % (max_label + 1));
    write_gzip(dir_ / (stem + "-images-idx3-ubyte.gz"), idx_bytes({images, 2, 2}, pixels));
    write_gzip(dir_ / (stem + "-labels-idx1-ubyte.gz"), idx_bytes({labels_count}, labels));
  }
  std::string load_error(const std::string& split) {
    try {
      read_fashion_mnist(dir_.path(), split);
    } catch (const InputError& error) {
      return error.what();
    }
    return "loaded";
  }
  testing::TempDir dir_{"tailsweep-fmnist"};
};

TEST_F(FakeFashionMnist, LoadsASplitAndChecksCounts) {
  write_split("t10k", 20, 20);
  const ImageSet set = read_fashion_mnist(dir_.path(), "test");
  EXPECT_EQ(set.count, 20);
  EXPECT_EQ(set.height, 2);
  EXPECT_EQ(set.width, 2);
  EXPECT_EQ(set.pixels.size(), 80u);
  EXPECT_EQ(set.labels[13], 3);
  write_split("train", 20, 19);
  EXPECT_THAT(load_error("train"), HasSubstr("has 20 images but"));
  write_split("train", 20, 20, 10);
  EXPECT_THAT(load_error("train"), HasSubstr("label 10 at index 10 is outside 0..9"));
  EXPECT_THAT(load_error("validation"), HasSubstr("not 'validation'"));
}

TEST(FashionMnist, AMissingFolderNamesThePackage) {
  try {
    read_fashion_mnist("/nonexistent/fashion-mnist", "test");
    ADD_FAILURE();
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("apt-get install dataset-fashion-mnist"));
  }
}

// The real data from Debian's package (scripts/setup.sh installs it).
TEST(FashionMnist, TheDebianPackageHasBalancedSplits) {
  if (!std::filesystem::exists(kFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist absent";
  for (const auto& [split, count] :
       {std::pair<std::string, int64_t>{"train", 60000}, {"test", 10000}}) {
    const ImageSet set = read_fashion_mnist(kFashionMnistDir, split);
    EXPECT_EQ(set.count, count);
    EXPECT_EQ(set.height, 28);
    EXPECT_EQ(set.width, 28);
    std::array<int64_t, 10> per_class{};
    for (uint8_t label : set.labels) per_class[label] += 1;
    for (int64_t n : per_class) EXPECT_EQ(n, count / 10) << split;
    const std::vector<int32_t> labels(set.labels.begin(), set.labels.end());
    const auto subset = stratified_subset(labels, 10, 1000, 3);
    std::array<int, 10> chosen{};
    for (std::size_t i : subset) chosen[set.labels[i]] += 1;
    for (int n : chosen) EXPECT_EQ(n, 100) << split;
  }
}

}  // namespace
}  // namespace tailsweep::datasets
