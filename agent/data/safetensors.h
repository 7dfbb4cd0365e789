#pragma once
// A safetensors reader and writer of our own, with no LibTorch dependency, so
// that both sides (and tests) can use it.
//
// Format (https://github.com/huggingface/safetensors):
//   8 bytes   little-endian u64 N, the header length
//   N bytes   JSON object: name -> {"dtype", "shape", "data_offsets": [begin, end]}
//             plus an optional "__metadata__": {string: string}
//   rest      the byte buffer; offsets are relative to its start
//
// Every malformed input is refused with SafetensorsError whose message names
// the file and, where there is one, the tensor.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace tailsweep::safetensors {

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

// "F32" <-> DType; parse throws SafetensorsError on an unknown name.
DType parse_dtype(const std::string& name);
const char* dtype_name(DType dtype);
std::size_t dtype_size_bytes(DType dtype);

struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<std::byte> data;  // raw little-endian bytes, numel * dtype size

  int64_t numel() const;
};

struct File {
  // Ordered by name so iteration (and error messages) are deterministic.
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Largest header we accept; the reference implementation uses 100 MB.
inline constexpr std::uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;

// Parses a whole file image. Refuses: fewer than 8 bytes, a header length past
// the end or over kMaxHeaderBytes, a header that is not a JSON object, entries
// that are not objects or lack/mistype dtype, shape or data_offsets, unknown
// dtypes, negative dims, offsets out of range or reversed, a byte length that
// does not match shape x dtype, overlapping tensors, holes between tensors or
// trailing bytes after the last one, and unknown keys in an entry.
File parse(std::span<const std::byte> file_bytes, const std::string& origin = "<memory>");
File read_file(const std::filesystem::path& path);

// Serialises with the header padded by spaces to a multiple of 8 bytes (as the
// reference writer does) and tensors laid out in name order.
std::vector<std::byte> serialize(const File& file);
// Writes to a temporary file in the same folder and renames it into place, so
// a crash never leaves a half-written file under the final name.
void write_file(const std::filesystem::path& path, const File& file);

// Element conversion to float32, for F32, F16, BF16 and F64 sources;
// throws SafetensorsError naming `tensor_name` for any other dtype.
std::vector<float> to_float32(const Tensor& tensor, const std::string& tensor_name);
Tensor from_float32(std::span<const float> values, std::vector<int64_t> shape);

// IEEE half and bfloat16 conversions (round-to-nearest-even on the way down).
float half_to_float(std::uint16_t bits);
float bfloat16_to_float(std::uint16_t bits);
std::uint16_t float_to_half(float value);
std::uint16_t float_to_bfloat16(float value);

}  // namespace tailsweep::safetensors
