#include "agent/data/safetensors.h"

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace st = tailsweep::safetensors;

namespace {

using Bytes = std::vector<std::byte>;

// Builds a file image by hand: little-endian length prefix, header text as
// given (no padding unless the test adds it), then the data buffer.
Bytes make_image(const std::string& header, std::size_t data_size = 0,
                 std::uint64_t declared_length = UINT64_MAX) {
  const std::uint64_t length = declared_length == UINT64_MAX ? header.size() : declared_length;
  Bytes out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((length >> (8 * i)) & 0xff));
  for (const char c : header) out.push_back(static_cast<std::byte>(c));
  for (std::size_t i = 0; i < data_size; ++i) out.push_back(static_cast<std::byte>(i & 0xff));
  return out;
}

Bytes bytes_of(std::initializer_list<int> values) {
  Bytes out;
  for (const int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// The message parse() refuses `image` with; a test failure if it accepts it.
std::string parse_error(const Bytes& image) {
  try {
    st::parse(image);
  } catch (const st::SafetensorsError& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse accepted a malformed image";
  return "";
}

// Fails the test unless `message` contains every one of `parts`.
void expect_contains(const std::string& message, std::initializer_list<std::string> parts) {
  for (const auto& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos)
        << "message: " << message << "\nmissing: " << part;
  }
  EXPECT_EQ(message.find('\n'), std::string::npos) << "message is not one line: " << message;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const st::SafetensorsError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no SafetensorsError thrown";
  return "";
}

st::Tensor raw_tensor(st::DType dtype, std::vector<int64_t> shape, std::size_t bytes, int seed) {
  st::Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  for (std::size_t i = 0; i < bytes; ++i)
    t.data.push_back(static_cast<std::byte>((i * 31 + seed) & 0xff));
  return t;
}

void expect_same(const st::File& a, const st::File& b) {
  EXPECT_EQ(a.metadata, b.metadata);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, tensor] : a.tensors) {
    ASSERT_TRUE(b.tensors.count(name)) << name;
    const st::Tensor& other = b.tensors.at(name);
    EXPECT_EQ(tensor.dtype, other.dtype) << name;
    EXPECT_EQ(tensor.shape, other.shape) << name;
    EXPECT_EQ(tensor.data, other.data) << name;
  }
}

std::string header_text(const Bytes& image) {
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= std::to_integer<std::uint64_t>(image[i]) << (8 * i);
  return std::string(reinterpret_cast<const char*>(image.data() + 8), n);
}

float f32(std::uint32_t bits) { return std::bit_cast<float>(bits); }

// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("safetensors_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

st::File sample_file() {
  st::File file;
  const std::vector<float> values = {1.0f, -2.5f, 0.0f, 3.25f, 1e-3f, -1e6f};
  file.tensors["blocks.0.attn.qkv.weight"] = st::from_float32(values, {2, 3});
  file.tensors["f64"] = raw_tensor(st::DType::F64, {3}, 24, 1);
  file.tensors["f16"] = raw_tensor(st::DType::F16, {2, 2}, 8, 2);
  file.tensors["bf16"] = raw_tensor(st::DType::BF16, {5}, 10, 3);
  file.tensors["i64"] = raw_tensor(st::DType::I64, {1, 2}, 16, 4);
  file.tensors["i32"] = raw_tensor(st::DType::I32, {3}, 12, 5);
  file.tensors["i16"] = raw_tensor(st::DType::I16, {1}, 2, 6);
  file.tensors["i8"] = raw_tensor(st::DType::I8, {7}, 7, 7);
  file.tensors["u8"] = raw_tensor(st::DType::U8, {1, 1, 3}, 3, 8);
  file.tensors["mask"] = raw_tensor(st::DType::BOOL, {2}, 2, 9);
  file.tensors["empty"] = raw_tensor(st::DType::F32, {0, 3}, 0, 0);
  file.tensors["scalar"] = raw_tensor(st::DType::F32, {}, 4, 10);
  file.metadata = {{"format", "pt"}, {"note", "h\u00e9llo \"quoted\""}};
  return file;
}

const std::string kGoodEntry = R"("dtype":"F32","shape":[2],"data_offsets":[0,8])";

// ---------------------------------------------------------------- dtypes

TEST(SafetensorsDType, NamesAndSizesRoundTrip) {
  const std::vector<std::pair<std::string, std::size_t>> expected = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  for (const auto& [name, size] : expected) {
    const st::DType dtype = st::parse_dtype(name);
    EXPECT_STREQ(st::dtype_name(dtype), name.c_str());
    EXPECT_EQ(st::dtype_size_bytes(dtype), size) << name;
  }
}

TEST(SafetensorsDType, UnknownNameIsRefused) {
  expect_contains(error_of([] { st::parse_dtype("F8_E4M3"); }), {"unknown dtype", "F8_E4M3"});
  expect_contains(error_of([] { st::parse_dtype("f32"); }), {"f32"});
}

TEST(SafetensorsTensor, Numel) {
  EXPECT_EQ(raw_tensor(st::DType::F32, {}, 4, 0).numel(), 1);
  EXPECT_EQ(raw_tensor(st::DType::F32, {2, 3, 4}, 0, 0).numel(), 24);
  EXPECT_EQ(raw_tensor(st::DType::F32, {5, 0, 7}, 0, 0).numel(), 0);
}

// ---------------------------------------------------------------- round trips

TEST(SafetensorsRoundTrip, AllDtypesMetadataZeroSizeAndScalar) {
  const st::File file = sample_file();
  const Bytes image = st::serialize(file);
  const st::File back = st::parse(image);
  expect_same(file, back);
  EXPECT_EQ(back.tensors.at("scalar").shape, std::vector<int64_t>{});
  EXPECT_EQ(back.tensors.at("scalar").data.size(), 4u);
  EXPECT_EQ(back.tensors.at("empty").shape, (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(back.tensors.at("empty").data.empty());
  // Serialising again gives the same bytes: the format is deterministic.
  EXPECT_EQ(st::serialize(back), image);
}

TEST(SafetensorsRoundTrip, HeaderIsPaddedWithSpacesToMultipleOfEight) {
  for (int extra = 0; extra < 9; ++extra) {
    st::File file;
    file.tensors[std::string(1 + extra, 'x')] = raw_tensor(st::DType::U8, {1}, 1, extra);
    const Bytes image = st::serialize(file);
    const std::string header = header_text(image);
    EXPECT_EQ(header.size() % 8, 0u) << header;
    EXPECT_EQ(header.front(), '{');
    const auto last = header.find_last_not_of(' ');
    EXPECT_EQ(header[last], '}');
    EXPECT_LT(header.size() - last - 1, 8u);
    EXPECT_EQ(image.size(), 8 + header.size() + 1);
    expect_same(file, st::parse(image));
  }
}

TEST(SafetensorsRoundTrip, MetadataOmittedWhenEmptyAndTensorsLaidOutInNameOrder) {
  st::File file;
  file.tensors["b"] = raw_tensor(st::DType::U8, {3}, 3, 0);
  file.tensors["a"] = raw_tensor(st::DType::I16, {2}, 4, 0);
  const std::string header = header_text(st::serialize(file));
  EXPECT_EQ(header.find("__metadata__"), std::string::npos) << header;
  EXPECT_NE(header.find(R"("a":{"dtype":"I16","shape":[2],"data_offsets":[0,4]})"),
            std::string::npos)
      << header;
  EXPECT_NE(header.find(R"("b":{"dtype":"U8","shape":[3],"data_offsets":[4,7]})"),
            std::string::npos)
      << header;
  EXPECT_LT(header.find("\"a\""), header.find("\"b\""));
}

TEST(SafetensorsRoundTrip, EmptyFile) {
  const Bytes image = st::serialize(st::File{});
  EXPECT_EQ(header_text(image), "{}      ");
  const st::File back = st::parse(image);
  EXPECT_TRUE(back.tensors.empty());
  EXPECT_TRUE(back.metadata.empty());
}

TEST(SafetensorsRoundTrip, ByteExactTinyFile) {
  st::File file;
  file.tensors["a"] = raw_tensor(st::DType::U8, {2}, 0, 0);
  file.tensors["a"].data = bytes_of({0x01, 0x02});
  file.metadata["k"] = "v";
  const std::string header =
      R"({"__metadata__":{"k":"v"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  ASSERT_EQ(header.size(), 78u);
  Bytes expected = bytes_of({0x50, 0, 0, 0, 0, 0, 0, 0});  // 78 + 2 spaces = 80
  for (const char c : header + "  ") expected.push_back(static_cast<std::byte>(c));
  expected.push_back(std::byte{0x01});
  expected.push_back(std::byte{0x02});
  EXPECT_EQ(st::serialize(file), expected);
  expect_same(file, st::parse(expected));
}

TEST(SafetensorsParse, OffsetsNeedNotFollowNameOrder) {
  const std::string header = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[3,5]},)"
                             R"("b":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})";
  const st::File file = st::parse(make_image(header, 5));
  EXPECT_EQ(file.tensors.at("b").data, bytes_of({0, 1, 2}));
  EXPECT_EQ(file.tensors.at("a").data, bytes_of({3, 4}));
}

TEST(SafetensorsParse, AcceptsWhitespacePaddingAndZeroSizeTensorsAtAnyBoundary) {
  const std::string header =
      R"( {"z0":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
      R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("z1":{"dtype":"I64","shape":[4,0],"data_offsets":[8,8]}}              )";
  const st::File file = st::parse(make_image(header, 8));
  ASSERT_EQ(file.tensors.size(), 3u);
  EXPECT_EQ(file.tensors.at("w").data.size(), 8u);
  EXPECT_TRUE(file.tensors.at("z1").data.empty());
}

TEST(SafetensorsFile, WriteThenReadRoundTrip) {
  TempDir dir;
  const auto path = dir.path() / "model.safetensors";
  const st::File file = sample_file();
  st::write_file(path, file);
  expect_same(file, st::read_file(path));
  EXPECT_EQ(std::filesystem::file_size(path), st::serialize(file).size());
  // Overwriting replaces the file, and no temporary file is left behind.
  st::File smaller;
  smaller.tensors["only"] = st::from_float32(std::vector<float>{4.0f}, {1});
  st::write_file(path, smaller);
  expect_same(smaller, st::read_file(path));
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(SafetensorsFile, WriteIntoMissingFolderFails) {
  TempDir dir;
  const auto path = dir.path() / "no_such_dir" / "m.safetensors";
  expect_contains(error_of([&] { st::write_file(path, sample_file()); }),
                  {path.string(), "No such file or directory"});
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SafetensorsFile, ReadMissingFileNamesPathAndReason) {
  TempDir dir;
  const auto path = dir.path() / "absent.safetensors";
  expect_contains(error_of([&] { st::read_file(path); }),
                  {"cannot open", path.string(), "No such file or directory"});
}

TEST(SafetensorsFile, ReadFolderFails) {
  TempDir dir;
  expect_contains(error_of([&] { st::read_file(dir.path()); }), {dir.path().string()});
}

TEST(SafetensorsFile, MalformedFileErrorNamesPathAndTensor) {
  TempDir dir;
  const auto path = dir.path() / "bad.safetensors";
  const Bytes image = make_image(
      R"({"blocks.0.attn.qkv.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,12]}})", 12);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(image.data()), image.size());
  expect_contains(
      error_of([&] { st::read_file(path); }),
      {path.string() +
       ": tensor 'blocks.0.attn.qkv.weight': data_offsets [0, 12] hold 12 bytes but shape "
       "[2, 3] of F32 needs 24"});
}

// ---------------------------------------------------------------- malformed input

struct MalformedCase {
  std::string label;
  Bytes image;
  std::vector<std::string> expected;  // substrings of the message
};

std::string entry(const std::string& name, const std::string& body) {
  return "\"" + name + "\":{" + body + "}";
}

std::vector<MalformedCase> malformed_cases() {
  const std::string w = entry("w", kGoodEntry);
  return {
      {"Empty", {}, {"<memory>", "0 bytes"}},
      {"SevenBytes", bytes_of({1, 0, 0, 0, 0, 0, 0}), {"<memory>", "7 bytes"}},
      {"HeaderLengthPastEnd",
       make_image("{}", 0, 100),
       {"<memory>", "header length 100", "past the end"}},
      {"HeaderLengthOverLimit",
       make_image("{}", 0, st::kMaxHeaderBytes + 1),
       {"100000001", "exceeds"}},
      {"HeaderLengthZero", make_image(""), {"<memory>", "not valid JSON"}},
      {"HeaderNotJson", make_image("{\"w\":"), {"<memory>", "not valid JSON"}},
      {"HeaderTrailingGarbage", make_image("{} x"), {"not valid JSON"}},
      {"HeaderInvalidUtf8", make_image("{\"\xff\":{}}"), {"not valid JSON"}},
      {"HeaderIsArray", make_image("[1,2]"), {"<memory>", "must be a JSON object", "array"}},
      {"EntryNotObject",
       make_image(R"({"w":[0,8]})", 8),
       {"tensor 'w'", "entry must be an object"}},
      {"MissingDtype",
       make_image(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", 8),
       {"tensor 'w'", "missing 'dtype'"}},
      {"MissingShape",
       make_image(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", 8),
       {"tensor 'w'", "'shape'"}},
      {"MissingOffsets",
       make_image(R"({"w":{"dtype":"F32","shape":[2]}})", 8),
       {"tensor 'w'", "'data_offsets'"}},
      {"DtypeNotString",
       make_image("{" + entry("w", R"("dtype":4,"shape":[2],"data_offsets":[0,8])") + "}", 8),
       {"tensor 'w'", "dtype must be a string"}},
      {"UnknownDtype",
       make_image("{" + entry("w", R"("dtype":"F12","shape":[2],"data_offsets":[0,8])") + "}", 8),
       {"tensor 'w'", "unknown dtype 'F12'"}},
      {"UnknownKey",
       make_image("{" + entry("w", kGoodEntry + R"(,"extra":1)") + "}", 8),
       {"tensor 'w'", "unknown key 'extra'"}},
      {"ShapeNotArray",
       make_image("{" + entry("w", R"("dtype":"F32","shape":2,"data_offsets":[0,8])") + "}", 8),
       {"tensor 'w'", "shape must be an array"}},
      {"NegativeDim",
       make_image("{" + entry("w", R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])") + "}", 8),
       {"tensor 'w'", "-2"}},
      {"FloatDim",
       make_image("{" + entry("w", R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])") + "}", 8),
       {"tensor 'w'", "2.0"}},
      {"StringDim",
       make_image("{" + entry("w", R"("dtype":"F32","shape":["2"],"data_offsets":[0,8])") + "}", 8),
       {"tensor 'w'", "not a non-negative integer"}},
      {"DimOverInt64",
       make_image(
           "{" + entry("w", R"("dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,8])") +
               "}",
           8),
       {"tensor 'w'", "18446744073709551615"}},
      {"SizeOverflow",
       make_image(
           "{" +
               entry("w", R"("dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8])") +
               "}",
           8),
       {"tensor 'w'", "too large"}},
      {"SizeOverflowByDtype",
       make_image(
           "{" + entry("w", R"("dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,8])") +
               "}",
           8),
       {"tensor 'w'", "too large"}},
      {"OffsetsNotPair",
       make_image("{" + entry("w", R"("dtype":"F32","shape":[2],"data_offsets":[0,8,8])") + "}", 8),
       {"tensor 'w'", "data_offsets must be"}},
      {"OffsetsNegative",
       make_image("{" + entry("w", R"("dtype":"F32","shape":[0],"data_offsets":[-1,-1])") + "}"),
       {"tensor 'w'", "data_offsets must be"}},
      {"OffsetsReversed",
       make_image("{" + entry("w", R"("dtype":"F32","shape":[2],"data_offsets":[8,0])") + "}", 8),
       {"tensor 'w'", "reversed"}},
      {"OffsetsPastBuffer",
       make_image("{" + entry("w", R"("dtype":"F32","shape":[2],"data_offsets":[0,8])") + "}", 4),
       {"tensor 'w'", "past the end of the 4-byte data buffer"}},
      {"SizeMismatch",
       make_image("{" +
                      entry("blocks.0.attn.qkv.weight",
                            R"("dtype":"F32","shape":[2,3],"data_offsets":[0,12])") +
                      "}",
                  12),
       {"<memory>: tensor 'blocks.0.attn.qkv.weight': data_offsets [0, 12] hold 12 bytes but shape "
        "[2, 3] of F32 needs 24"}},
      {"Overlap",
       make_image(
           "{" + w + "," + entry("v", R"("dtype":"F32","shape":[2],"data_offsets":[4,12])") + "}",
           12),
       {"tensor 'v'", "overlap", "'w'"}},
      {"ZeroSizeInsideAnother",
       make_image(
           "{" + w + "," + entry("z", R"("dtype":"F32","shape":[0],"data_offsets":[4,4])") + "}",
           8),
       {"tensor 'z'", "overlap"}},
      {"HoleBetween",
       make_image(
           "{" + w + "," + entry("v", R"("dtype":"F32","shape":[1],"data_offsets":[12,16])") + "}",
           16),
       {"tensor 'v'", "hole of 4 bytes"}},
      {"HoleAtStart",
       make_image("{" + entry("w", R"("dtype":"F32","shape":[1],"data_offsets":[4,8])") + "}", 8),
       {"tensor 'w'", "hole"}},
      {"TrailingBytes", make_image("{" + w + "}", 10), {"<memory>", "2 trailing bytes", "'w'"}},
      {"TrailingBytesNoTensors", make_image("{}", 3), {"<memory>", "3 trailing bytes"}},
      {"DuplicateTensor", make_image("{" + w + "," + w + "}", 8), {"duplicate key \"w\""}},
      {"DuplicateKeyInEntry",
       make_image("{" + entry("w", kGoodEntry + R"(,"dtype":"I64")") + "}", 8),
       {"duplicate key \"dtype\""}},
      {"MetadataNotObject",
       make_image(R"({"__metadata__":"x"})"),
       {"<memory>", "__metadata__ must be an object"}},
      {"MetadataValueNotString",
       make_image(R"({"__metadata__":{"epoch":3}})"),
       {"__metadata__ key 'epoch'", "string"}},
      {"MetadataNested",
       make_image(R"({"__metadata__":{"a":{"b":"c"}}})"),
       {"__metadata__ key 'a'"}},
      {"MetadataDuplicateKey",
       make_image(R"({"__metadata__":{"a":"1","a":"2"}})"),
       {"duplicate key \"a\""}},
  };
}

class SafetensorsMalformed : public testing::TestWithParam<MalformedCase> {};

TEST_P(SafetensorsMalformed, IsRefusedWithClearMessage) {
  const MalformedCase& c = GetParam();
  const std::string message = parse_error(c.image);
  for (const auto& part : c.expected) expect_contains(message, {part});
  // Every message names its origin.
  expect_contains(message, {"<memory>"});
  // A file whose image fails in memory fails the same way when read from disk,
  // with the path as origin instead.
  TempDir dir;
  const auto path = dir.path() / "case.safetensors";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(c.image.data()), c.image.size());
  const std::string from_disk = error_of([&] { st::read_file(path); });
  expect_contains(from_disk, {path.string()});
  EXPECT_EQ(from_disk.find("<memory>"), std::string::npos) << from_disk;
}

INSTANTIATE_TEST_SUITE_P(Cases, SafetensorsMalformed, testing::ValuesIn(malformed_cases()),
                         [](const testing::TestParamInfo<MalformedCase>& info) {
                           return info.param.label;
                         });

TEST(SafetensorsParse, GoodEntryTemplateIsAccepted) {
  // Guards the malformed table: its cases differ from this one in one way each.
  const st::File file = st::parse(make_image("{" + entry("w", kGoodEntry) + "}", 8));
  EXPECT_EQ(file.tensors.at("w").shape, std::vector<int64_t>{2});
}

// ---------------------------------------------------------------- serialize refusals

TEST(SafetensorsSerialize, RefusesDataThatDoesNotMatchShape) {
  st::File file;
  file.tensors["blocks.1.mlp"] = raw_tensor(st::DType::F32, {2, 2}, 12, 0);
  expect_contains(error_of([&] { st::serialize(file); }),
                  {"<memory>: tensor 'blocks.1.mlp'", "12 bytes", "[2, 2]", "needs 16"});
  TempDir dir;
  const auto path = dir.path() / "x.safetensors";
  expect_contains(error_of([&] { st::write_file(path, file); }), {path.string(), "'blocks.1.mlp'"});
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SafetensorsSerialize, RefusesNegativeDimAndReservedName) {
  st::File file;
  file.tensors["neg"] = raw_tensor(st::DType::F32, {-1}, 0, 0);
  expect_contains(error_of([&] { st::serialize(file); }), {"'neg'"});
  st::File reserved;
  reserved.tensors["__metadata__"] = raw_tensor(st::DType::U8, {1}, 1, 0);
  expect_contains(error_of([&] { st::serialize(reserved); }), {"'__metadata__'", "reserved"});
}

// ---------------------------------------------------------------- float conversion

TEST(SafetensorsConvert, FromFloat32MakesLittleEndianF32) {
  const std::vector<float> values = {1.0f, -2.0f};
  const st::Tensor t = st::from_float32(values, {2, 1});
  EXPECT_EQ(t.dtype, st::DType::F32);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(t.data, bytes_of({0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0}));
  EXPECT_EQ(st::to_float32(t, "t"), values);
}

TEST(SafetensorsConvert, FromFloat32ChecksCount) {
  const std::vector<float> values(5, 0.0f);
  expect_contains(error_of([&] { st::from_float32(values, {2, 3}); }), {"[2, 3]", "5"});
  expect_contains(error_of([&] { st::from_float32(values, {-5}); }), {"[-5]"});
  EXPECT_EQ(st::from_float32(std::vector<float>{7.0f}, {}).numel(), 1);
}

TEST(SafetensorsConvert, ToFloat32FromF16Bf16F64) {
  st::Tensor h;
  h.dtype = st::DType::F16;
  h.shape = {3};
  h.data = bytes_of({0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b});  // 1, -2, 65504
  EXPECT_EQ(st::to_float32(h, "h"), (std::vector<float>{1.0f, -2.0f, 65504.0f}));

  st::Tensor b;
  b.dtype = st::DType::BF16;
  b.shape = {2};
  b.data = bytes_of({0x80, 0x3f, 0x49, 0x40});  // 1, 3.140625
  EXPECT_EQ(st::to_float32(b, "b"), (std::vector<float>{1.0f, 3.140625f}));

  st::Tensor d;
  d.dtype = st::DType::F64;
  d.shape = {2};
  for (const double v : {0.1, -1e300}) {
    const auto bits = std::bit_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) d.data.push_back(static_cast<std::byte>((bits >> (8 * i)) & 0xff));
  }
  const auto out = st::to_float32(d, "d");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], 0.1f);
  EXPECT_TRUE(std::isinf(out[1]) && out[1] < 0);
}

TEST(SafetensorsConvert, ToFloat32RefusesIntegersNamingTensor) {
  const st::Tensor t = raw_tensor(st::DType::I64, {2}, 16, 0);
  expect_contains(error_of([&] { st::to_float32(t, "pos_embed.index"); }),
                  {"'pos_embed.index'", "I64"});
  const st::Tensor u = raw_tensor(st::DType::BOOL, {2}, 2, 0);
  expect_contains(error_of([&] { st::to_float32(u, "mask"); }), {"'mask'", "BOOL"});
}

TEST(SafetensorsConvert, ToFloat32RefusesShortData) {
  const st::Tensor t = raw_tensor(st::DType::F32, {3}, 8, 0);
  expect_contains(error_of([&] { st::to_float32(t, "short"); }),
                  {"'short'", "8 bytes", "needs 12"});
}

TEST(SafetensorsHalf, KnownValues) {
  EXPECT_EQ(st::float_to_half(1.0f), 0x3C00);
  EXPECT_EQ(st::half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(st::float_to_half(-2.0f), 0xC000);
  EXPECT_EQ(st::float_to_half(65504.0f), 0x7BFF);
  EXPECT_EQ(st::half_to_float(0x7BFF), 65504.0f);
  EXPECT_EQ(st::half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(st::float_to_half(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(st::half_to_float(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(st::half_to_float(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(st::half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(st::float_to_half(0.0f), 0x0000);
  EXPECT_EQ(st::float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(st::half_to_float(0x8000), 0.0f);
  EXPECT_TRUE(std::signbit(st::half_to_float(0x8000)));
  EXPECT_FALSE(std::signbit(st::half_to_float(0x0000)));
  EXPECT_EQ(st::float_to_half(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(st::float_to_half(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_EQ(st::half_to_float(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(st::half_to_float(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(st::half_to_float(0x7E00)));
  EXPECT_TRUE(std::isnan(st::half_to_float(0x7C01)));  // signalling NaN stays NaN, not inf
  const std::uint16_t nan = st::float_to_half(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7C00, 0x7C00);
  EXPECT_NE(nan & 0x03FF, 0);
  EXPECT_NE(st::float_to_half(f32(0x7F800001)) & 0x03FF, 0);  // NaN payload only in low bits
}

TEST(SafetensorsHalf, RoundsToNearestEvenAndOverflowsToInf) {
  EXPECT_EQ(st::float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // tie, 0x3C00 even
  EXPECT_EQ(st::float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie, up to even
  EXPECT_EQ(st::float_to_half(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)), 0x3C01);
  EXPECT_EQ(st::float_to_half(2047.5f), 0x67FF + 1);  // mantissa carry into exponent: 2048
  EXPECT_EQ(st::float_to_half(65519.0f), 0x7BFF);
  EXPECT_EQ(st::float_to_half(65520.0f), 0x7C00);  // tie between 65504 and 65536 (inf), to even
  EXPECT_EQ(st::float_to_half(-1e6f), 0xFC00);
  EXPECT_EQ(st::float_to_half(std::numeric_limits<float>::max()), 0x7C00);
  // Subnormal range: x * 2^24 rounded to even.
  EXPECT_EQ(st::float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // tie 0 / 1
  EXPECT_EQ(st::float_to_half(std::ldexp(3.0f, -25)), 0x0002);  // tie 1 / 2
  EXPECT_EQ(st::float_to_half(std::ldexp(1.0001f, -25)), 0x0001);
  EXPECT_EQ(st::float_to_half(std::ldexp(2047.0f, -25)), 0x0400);  // tie 1023 / 1024: to normal
  EXPECT_EQ(st::float_to_half(-std::ldexp(1.0f, -26)), 0x8000);
  EXPECT_EQ(st::float_to_half(std::numeric_limits<float>::denorm_min()), 0x0000);
}

TEST(SafetensorsHalf, EveryHalfRoundTripsExactly) {
  for (std::uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    const float f = st::half_to_float(h);
    const bool is_nan = (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0;
    ASSERT_EQ(std::isnan(f), is_nan) << std::hex << bits;
    if (is_nan) continue;
    // Independent decoding through double arithmetic.
    const int exponent = (h >> 10) & 0x1F;
    const int mantissa = h & 0x3FF;
    double expected = exponent == 0    ? std::ldexp(mantissa, -24)
                      : exponent == 31 ? std::numeric_limits<double>::infinity()
                                       : std::ldexp(1024 + mantissa, exponent - 25);
    if (h & 0x8000) expected = -expected;
    ASSERT_EQ(static_cast<double>(f), expected) << std::hex << bits;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << bits;
    ASSERT_EQ(st::float_to_half(f), h) << std::hex << bits;
  }
}

TEST(SafetensorsHalf, RandomFloatsRoundToNearestEven) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  std::uniform_real_distribution<float> in_range(-70000.0f, 70000.0f);
  for (int i = 0; i < 200000; ++i) {
    // Mix raw bit patterns near the half range with uniform values.
    float f = i % 2 ? in_range(rng) : f32((any_bits(rng) & 0x8FFFFFFFu) | 0x30000000u);
    if (i % 3 == 0) f = f32(any_bits(rng) & 0xBFFFFFFFu);  // |x| < 2: exercises subnormals
    const std::uint16_t h = st::float_to_half(f);
    const double x = std::fabs(static_cast<double>(f));
    ASSERT_EQ((h & 0x8000) != 0, std::signbit(f)) << f;
    if (x >= 65520.0) {
      ASSERT_EQ(h & 0x7FFF, 0x7C00) << f;
      continue;
    }
    const int m = h & 0x7FFF;
    ASSERT_LT(m, 0x7C00) << f;
    // Distances to the chosen half and its neighbours, exact in double.
    const double chosen = std::fabs(st::half_to_float(static_cast<std::uint16_t>(m)));
    const double below =
        m > 0 ? std::fabs(st::half_to_float(static_cast<std::uint16_t>(m - 1))) : -1e30;
    const double above =
        m < 0x7BFF ? std::fabs(st::half_to_float(static_cast<std::uint16_t>(m + 1))) : 65536.0;
    const double d = std::fabs(x - chosen);
    ASSERT_LE(d, std::fabs(x - below)) << f;
    ASSERT_LE(d, std::fabs(x - above)) << f;
    if (d == std::fabs(x - below) || d == std::fabs(x - above)) {
      ASSERT_EQ(m & 1, 0) << "tie not to even: " << f;
    }
  }
}

TEST(SafetensorsBfloat16, KnownValuesAndRounding) {
  EXPECT_EQ(st::float_to_bfloat16(1.0f), 0x3F80);
  EXPECT_EQ(st::bfloat16_to_float(0x3F80), 1.0f);
  EXPECT_EQ(st::float_to_bfloat16(-2.0f), 0xC000);
  EXPECT_EQ(st::float_to_bfloat16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);      // tie, stays even
  EXPECT_EQ(st::float_to_bfloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);  // tie, up to even
  EXPECT_EQ(st::float_to_bfloat16(std::nextafter(1.0f + std::ldexp(1.0f, -8), 2.0f)), 0x3F81);
  EXPECT_EQ(st::float_to_bfloat16(std::numeric_limits<float>::max()), 0x7F80);  // overflow to inf
  EXPECT_EQ(st::float_to_bfloat16(-std::numeric_limits<float>::max()), 0xFF80);
  EXPECT_EQ(st::float_to_bfloat16(f32(0x7F7F7FFF)), 0x7F7F);  // just below the tie stays finite
  EXPECT_EQ(st::float_to_bfloat16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(st::float_to_bfloat16(-0.0f), 0x8000);
  EXPECT_TRUE(std::signbit(st::bfloat16_to_float(0x8000)));
  EXPECT_EQ(st::bfloat16_to_float(0x0001), std::ldexp(1.0f, -133));  // smallest subnormal
  EXPECT_EQ(st::float_to_bfloat16(std::ldexp(1.0f, -133)), 0x0001);
  EXPECT_TRUE(std::isnan(st::bfloat16_to_float(0x7FC0)));
  EXPECT_TRUE(std::isnan(st::bfloat16_to_float(0x7F81)));
  // A NaN whose payload lives only in the dropped bits must not become inf.
  const std::uint16_t nan = st::float_to_bfloat16(f32(0x7F800001));
  EXPECT_TRUE(std::isnan(st::bfloat16_to_float(nan)));
  EXPECT_TRUE(std::isnan(
      st::bfloat16_to_float(st::float_to_bfloat16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(SafetensorsBfloat16, EveryBfloat16RoundTripsExactly) {
  for (std::uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const auto b = static_cast<std::uint16_t>(bits);
    const float f = st::bfloat16_to_float(b);
    ASSERT_EQ(std::bit_cast<std::uint32_t>(f), bits << 16);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(st::bfloat16_to_float(st::float_to_bfloat16(f)))) << std::hex << bits;
    } else {
      ASSERT_EQ(st::float_to_bfloat16(f), b) << std::hex << bits;
    }
  }
}

}  // namespace
