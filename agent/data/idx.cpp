#include "agent/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::datasets {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;
constexpr uint64_t kMaxElements = 1ull << 32;  // far above any IDX file we read

// zlib's gzread reads gzip and plain files alike.
std::vector<uint8_t> read_maybe_gzipped(const std::filesystem::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    throw InputError(fmt::format("{}: cannot open", path.string()));
  }
  std::vector<uint8_t> bytes;
  std::array<uint8_t, 1 << 16> chunk{};
  while (true) {
    const int got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int code = 0;
      const std::string why = gzerror(file, &code);
      gzclose(file);
      throw InputError(fmt::format("{}: corrupt or truncated ({})", path.string(), why));
    }
    if (got == 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
  }
  gzclose(file);
  return bytes;
}

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& origin) {
  if (bytes.size() < 4) {
    throw InputError(
        fmt::format("{}: {} bytes, too short for an IDX header", origin, bytes.size()));
  }
  if (bytes[0] != 0 || bytes[1] != 0) {
    throw InputError(fmt::format("{}: bad IDX magic (first bytes {:02x} {:02x}, expected 00 00)",
                                 origin, bytes[0], bytes[1]));
  }
  if (bytes[2] != kUnsignedByte) {
    throw InputError(fmt::format("{}: IDX type 0x{:02x}; only unsigned byte (0x08) is supported",
                                 origin, bytes[2]));
  }
  const std::size_t rank = bytes[3];
  if (rank == 0) throw InputError(fmt::format("{}: IDX with no dimensions", origin));
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header) {
    throw InputError(fmt::format("{}: truncated IDX header ({} dimensions)", origin, rank));
  }
  IdxArray array;
  uint64_t elements = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    array.dims.push_back(big_endian_u32(bytes.data() + 4 + 4 * i));
    elements *= array.dims.back();
    if (elements > kMaxElements)
      throw InputError(fmt::format("{}: IDX dimensions too large", origin));
  }
  if (bytes.size() - header != elements) {
    throw InputError(fmt::format("{}: IDX dimensions say {} bytes of data, the file has {}", origin,
                                 elements, bytes.size() - header));
  }
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return array;
}

IdxArray read_idx_file(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_maybe_gzipped(path);
  return parse_idx(bytes, path.string());
}

ImageSet read_fashion_mnist(const std::filesystem::path& dir, const std::string& split) {
  if (split != "train" && split != "test") {
    throw InputError(fmt::format("fashion-mnist has splits train and test, not '{}'", split));
  }
  if (!std::filesystem::is_directory(dir)) {
    throw InputError(
        fmt::format("{}: not found; install Debian's dataset-fashion-mnist package "
                    "(apt-get install dataset-fashion-mnist)",
                    dir.string()));
  }
  const std::string stem = split == "train" ? "train" : "t10k";
  auto locate = [&](const std::string& name) {
    const auto gz = dir / (name + ".gz");
    return std::filesystem::exists(gz) ? gz : dir / name;
  };
  const auto images_path = locate(stem + "-images-idx3-ubyte");
  const auto labels_path = locate(stem + "-labels-idx1-ubyte");
  IdxArray images = read_idx_file(images_path);
  IdxArray labels = read_idx_file(labels_path);
  if (images.dims.size() != 3) {
    throw InputError(
        fmt::format("{}: images must be 3-D, not {}-D", images_path.string(), images.dims.size()));
  }
  if (labels.dims.size() != 1) {
    throw InputError(
        fmt::format("{}: labels must be 1-D, not {}-D", labels_path.string(), labels.dims.size()));
  }
  if (images.dims[0] != labels.dims[0]) {
    throw InputError(fmt::format("{} has {} images but {} has {} labels", images_path.string(),
                                 images.dims[0], labels_path.string(), labels.dims[0]));
  }
  const auto bad =
      std::find_if(labels.data.begin(), labels.data.end(), [](uint8_t label) { return label > 9; });
  if (bad != labels.data.end()) {
    throw InputError(fmt::format("{}: label {} at index {} is outside 0..9", labels_path.string(),
                                 *bad, bad - labels.data.begin()));
  }
  ImageSet set;
  set.name = "fashion-mnist/" + split;
  set.count = images.dims[0];
  set.height = images.dims[1];
  set.width = images.dims[2];
  set.classes = 10;
  set.pixels = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

}  // namespace tailsweep::datasets
