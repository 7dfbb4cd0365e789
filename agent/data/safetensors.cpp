#include "agent/data/safetensors.h"

#include <unistd.h>  // getpid, fsync, fileno: write_file needs POSIX anyway

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/wire/strict_json.h"

namespace tailsweep::safetensors {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(std::string message) { throw SafetensorsError(std::move(message)); }

struct DTypeInfo {
  DType dtype;
  const char* name;
  std::size_t size;
};

// clang-format off
constexpr std::array<DTypeInfo, 10> kDTypes = {{
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::BOOL, "BOOL", 1}}};
// clang-format on

const DTypeInfo& info(DType dtype) {
  for (const auto& entry : kDTypes) {
    if (entry.dtype == dtype) return entry;
  }
  fail(fmt::format("invalid DType value {}", static_cast<int>(dtype)));
}

std::optional<DType> find_dtype(std::string_view name) {
  for (const auto& entry : kDTypes) {
    if (name == entry.name) return entry.dtype;
  }
  return std::nullopt;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// numel * dtype size, or nullopt when a dim is negative or the product does
// not fit in 64 bits (a hostile header must not wrap around to a small size).
std::optional<std::uint64_t> byte_size(const std::vector<int64_t>& shape, DType dtype) {
  std::uint64_t total = dtype_size_bytes(dtype);
  if (std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; })) return std::nullopt;
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  for (const int64_t dim : shape) {
    const auto d = static_cast<std::uint64_t>(dim);
    if (total > std::numeric_limits<std::uint64_t>::max() / d) return std::nullopt;
    total *= d;
  }
  return total;
}

// The on-disk format is little-endian whatever the host is, so integers are
// assembled and split byte by byte rather than memcpy'd.
template <typename T>
T load_le(const std::byte* p) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    value |= static_cast<T>(std::to_integer<T>(p[i]) << (8 * i));
  return value;
}

template <typename T>
void store_le(T value, std::byte* p) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    p[i] = static_cast<std::byte>((value >> (8 * i)) & 0xff);
}

// Strict: a header with two entries of one name is ambiguous, and one nested
// past any real header's depth is an attack on the reader.
json parse_header_json(std::string_view text, const std::string& origin) {
  try {
    return parse_strict_json(text, fmt::format("{}: header", origin));
  } catch (const InputError& error) {
    fail(error.what());
  }
}

// A JSON number that is an integer >= 0 (refusing floats such as 2.0 and 1e3).
std::optional<std::uint64_t> as_non_negative(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0)
    return value.get<std::uint64_t>();
  return std::nullopt;
}

struct Entry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

DType parse_entry_dtype(const json& value, const std::string& where) {
  if (!value.is_string())
    fail(fmt::format("{}: dtype must be a string, not {}", where, value.type_name()));
  const auto& name = value.get_ref<const std::string&>();
  const auto dtype = find_dtype(name);
  if (!dtype) fail(fmt::format("{}: unknown dtype '{}'", where, name));
  return *dtype;
}

std::vector<int64_t> parse_entry_shape(const json& value, const std::string& where) {
  if (!value.is_array())
    fail(fmt::format("{}: shape must be an array, not {}", where, value.type_name()));
  std::vector<int64_t> shape;
  for (const json& dim : value) {
    const auto d = as_non_negative(dim);
    if (!d || *d > static_cast<std::uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(fmt::format("{}: shape {} has a dim {} that is not a non-negative integer", where,
                       value.dump(), dim.dump()));
    }
    shape.push_back(static_cast<int64_t>(*d));
  }
  return shape;
}

void parse_entry_offsets(const json& value, const std::string& where, Entry& entry) {
  const auto bad = [&] {
    fail(fmt::format("{}: data_offsets must be [begin, end] of non-negative integers, not {}",
                     where, value.dump()));
  };
  if (!value.is_array() || value.size() != 2) bad();
  const auto begin = as_non_negative(value[0]);
  const auto end = as_non_negative(value[1]);
  if (!begin || !end) bad();
  entry.begin = *begin;
  entry.end = *end;
}

// Checks one entry on its own; how entries sit next to each other is
// check_tiling's job.
Entry parse_entry(const std::string& name, const json& value, const std::string& origin,
                  std::uint64_t buffer_size) {
  const std::string where = fmt::format("{}: tensor '{}'", origin, name);
  if (!value.is_object())
    fail(fmt::format("{}: entry must be an object, not {}", where, value.type_name()));
  for (const auto& [key, unused] : value.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      fail(fmt::format("{}: unknown key '{}'", where, key));
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!value.contains(key)) fail(fmt::format("{}: missing '{}'", where, key));
  }
  Entry entry;
  entry.name = name;
  entry.dtype = parse_entry_dtype(value["dtype"], where);
  entry.shape = parse_entry_shape(value["shape"], where);
  parse_entry_offsets(value["data_offsets"], where, entry);
  const auto offsets = fmt::format("data_offsets [{}, {}]", entry.begin, entry.end);
  if (entry.begin > entry.end) fail(fmt::format("{}: {} are reversed", where, offsets));
  if (entry.end > buffer_size) {
    fail(fmt::format("{}: {} run past the end of the {}-byte data buffer", where, offsets,
                     buffer_size));
  }
  const auto needed = byte_size(entry.shape, entry.dtype);
  if (!needed)
    fail(fmt::format("{}: shape {} of {} is too large", where, shape_text(entry.shape),
                     dtype_name(entry.dtype)));
  if (entry.end - entry.begin != *needed) {
    fail(fmt::format("{}: {} hold {} bytes but shape {} of {} needs {}", where, offsets,
                     entry.end - entry.begin, shape_text(entry.shape), dtype_name(entry.dtype),
                     *needed));
  }
  return entry;
}

std::map<std::string, std::string> parse_metadata(const json& value, const std::string& origin) {
  if (!value.is_object())
    fail(fmt::format("{}: __metadata__ must be an object, not {}", origin, value.type_name()));
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      fail(fmt::format("{}: __metadata__ key '{}' must map to a string, not {}", origin, key,
                       item.type_name()));
    }
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// The tensors must cover the buffer exactly: no overlap (one write would
// clobber another tensor), no holes and no trailing bytes (a sign of a
// truncated or tampered header, and the reference refuses them too).
void check_tiling(std::vector<Entry>& entries, std::uint64_t buffer_size,
                  const std::string& origin) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  std::uint64_t previous_end = 0;
  const Entry* previous = nullptr;
  for (const Entry& entry : entries) {
    if (entry.begin < previous_end) {
      fail(fmt::format("{}: tensor '{}': data_offsets [{}, {}] overlap tensor '{}' ending at {}",
                       origin, entry.name, entry.begin, entry.end, previous->name, previous_end));
    }
    if (entry.begin > previous_end) {
      fail(fmt::format("{}: tensor '{}': data_offsets [{}, {}] leave a hole of {} bytes before it",
                       origin, entry.name, entry.begin, entry.end, entry.begin - previous_end));
    }
    previous_end = entry.end;
    previous = &entry;
  }
  if (previous_end != buffer_size) {
    const std::string after = previous ? fmt::format(" after tensor '{}'", previous->name) : "";
    fail(fmt::format("{}: data buffer has {} trailing bytes{} (tensors cover {} of {} bytes)",
                     origin, buffer_size - previous_end, after, previous_end, buffer_size));
  }
}

std::vector<std::byte> serialize_impl(const File& file, const std::string& origin) {
  // ordered_json keeps insertion order: __metadata__ first, then tensors in
  // name order, each as dtype, shape, data_offsets (as the reference does).
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : file.tensors) {
    const std::string where = fmt::format("{}: tensor '{}'", origin, name);
    if (name == "__metadata__") fail(fmt::format("{}: name is reserved", where));
    const auto needed = byte_size(tensor.shape, tensor.dtype);
    if (!needed || tensor.data.size() != *needed) {
      fail(fmt::format("{}: data holds {} bytes but shape {} of {} needs {}", where,
                       tensor.data.size(), shape_text(tensor.shape), dtype_name(tensor.dtype),
                       needed ? fmt::to_string(*needed) : "too many"));
    }
    header[name] = {{"dtype", dtype_name(tensor.dtype)},
                    {"shape", tensor.shape},
                    {"data_offsets", {offset, offset + *needed}}};
    offset += *needed;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // names or metadata that are not UTF-8
    fail(fmt::format("{}: cannot encode header: {}", origin, e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<std::byte> out(8 + text.size() + offset);
  store_le<std::uint64_t>(text.size(), out.data());
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::byte* cursor = out.data() + 8 + text.size();
  for (const auto& [name, tensor] : file.tensors) {
    if (!tensor.data.empty()) std::memcpy(cursor, tensor.data.data(), tensor.data.size());
    cursor += tensor.data.size();
  }
  return out;
}

std::string errno_text() { return std::strerror(errno); }

void write_all(const std::filesystem::path& path, const std::filesystem::path& temp,
               const std::vector<std::byte>& bytes) {
  std::FILE* out = std::fopen(temp.c_str(), "wb");
  if (out == nullptr)
    fail(fmt::format("cannot write {}: cannot create {}: {}", path.string(), temp.string(),
                     errno_text()));
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size() &&
                       std::fflush(out) == 0 &&
                       ::fsync(::fileno(out)) == 0;  // durable before the rename makes it visible
  const std::string reason = errno_text();
  const bool closed = std::fclose(out) == 0;
  if (!written || !closed) {
    fail(fmt::format("cannot write {}: writing {}: {}", path.string(), temp.string(),
                     written ? errno_text() : reason));
  }
}

}  // namespace

DType parse_dtype(const std::string& name) {
  const auto dtype = find_dtype(name);
  if (!dtype) fail(fmt::format("unknown dtype '{}'", name));
  return *dtype;
}

const char* dtype_name(DType dtype) { return info(dtype).name; }

std::size_t dtype_size_bytes(DType dtype) { return info(dtype).size; }

int64_t Tensor::numel() const {
  // Reuse the overflow-checked size with a 1-byte element.
  const auto count = byte_size(shape, DType::U8);
  if (!count || *count > static_cast<std::uint64_t>(std::numeric_limits<int64_t>::max())) {
    fail(fmt::format("shape {} has no valid element count", shape_text(shape)));
  }
  return static_cast<int64_t>(*count);
}

File parse(std::span<const std::byte> file_bytes, const std::string& origin) {
  if (file_bytes.size() < 8) {
    fail(fmt::format("{}: file is {} bytes, too short for the 8-byte header length", origin,
                     file_bytes.size()));
  }
  const auto header_size = load_le<std::uint64_t>(file_bytes.data());
  if (header_size > kMaxHeaderBytes) {
    fail(fmt::format("{}: header length {} exceeds the limit of {}", origin, header_size,
                     kMaxHeaderBytes));
  }
  if (header_size > file_bytes.size() - 8) {
    fail(fmt::format("{}: header length {} runs past the end of the {}-byte file", origin,
                     header_size, file_bytes.size()));
  }
  const auto text =
      std::string_view(reinterpret_cast<const char*>(file_bytes.data() + 8), header_size);
  const json header = parse_header_json(text, origin);
  if (!header.is_object())
    fail(fmt::format("{}: header must be a JSON object, not {}", origin, header.type_name()));

  const auto buffer = file_bytes.subspan(8 + header_size);
  File file;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      file.metadata = parse_metadata(value, origin);
    } else {
      entries.push_back(parse_entry(name, value, origin, buffer.size()));
    }
  }
  check_tiling(entries, buffer.size(), origin);
  for (Entry& entry : entries) {
    Tensor& tensor = file.tensors[entry.name];
    tensor.dtype = entry.dtype;
    tensor.shape = std::move(entry.shape);
    const auto bytes = buffer.subspan(entry.begin, entry.end - entry.begin);
    tensor.data.assign(bytes.begin(), bytes.end());
  }
  return file;
}

File read_file(const std::filesystem::path& path) {
  std::FILE* in = std::fopen(path.c_str(), "rb");
  if (in == nullptr) fail(fmt::format("cannot open {}: {}", path.string(), errno_text()));
  std::vector<std::byte> bytes;
  std::array<std::byte, 1 << 16> chunk{};
  std::size_t got = 0;
  while ((got = std::fread(chunk.data(), 1, chunk.size(), in)) > 0)
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
  const bool failed = std::ferror(in) != 0;  // e.g. EISDIR: fopen accepts a folder
  const std::string reason = errno_text();
  std::fclose(in);
  if (failed) fail(fmt::format("cannot read {}: {}", path.string(), reason));
  return parse(bytes, path.string());
}

std::vector<std::byte> serialize(const File& file) { return serialize_impl(file, "<memory>"); }

void write_file(const std::filesystem::path& path, const File& file) {
  const auto bytes = serialize_impl(file, path.string());
  std::filesystem::path temp = path;
  temp += fmt::format(".tmp-{}", ::getpid());
  std::error_code ec;
  try {
    write_all(path, temp, bytes);
    std::filesystem::rename(temp, path, ec);
    if (ec)
      fail(fmt::format("cannot rename {} to {}: {}", temp.string(), path.string(), ec.message()));
  } catch (const SafetensorsError&) {
    std::filesystem::remove(temp, ec);  // best effort; the first error is the one to report
    throw;
  }
}

std::vector<float> to_float32(const Tensor& tensor, const std::string& tensor_name) {
  const DType dtype = tensor.dtype;
  if (dtype != DType::F32 && dtype != DType::F16 && dtype != DType::BF16 && dtype != DType::F64) {
    fail(fmt::format("tensor '{}': cannot convert {} to float32", tensor_name, dtype_name(dtype)));
  }
  // Checked so a hand-built Tensor with a short buffer cannot make us read past it.
  const auto needed = byte_size(tensor.shape, dtype);
  if (!needed || tensor.data.size() != *needed) {
    fail(fmt::format("tensor '{}': data holds {} bytes but shape {} of {} needs {}", tensor_name,
                     tensor.data.size(), shape_text(tensor.shape), dtype_name(dtype),
                     needed ? fmt::to_string(*needed) : "too many"));
  }
  const std::size_t width = dtype_size_bytes(dtype);
  std::vector<float> out(tensor.data.size() / width);
  const std::byte* p = tensor.data.data();
  for (std::size_t i = 0; i < out.size(); ++i, p += width) {
    switch (dtype) {
      case DType::F32:
        out[i] = std::bit_cast<float>(load_le<std::uint32_t>(p));
        break;
      case DType::F16:
        out[i] = half_to_float(load_le<std::uint16_t>(p));
        break;
      case DType::BF16:
        out[i] = bfloat16_to_float(load_le<std::uint16_t>(p));
        break;
      default:
        out[i] = static_cast<float>(std::bit_cast<double>(load_le<std::uint64_t>(p)));
    }
  }
  return out;
}

Tensor from_float32(std::span<const float> values, std::vector<int64_t> shape) {
  const auto count = byte_size(shape, DType::U8);
  if (!count || *count != values.size()) {
    fail(fmt::format("from_float32: shape {} does not hold the {} values given", shape_text(shape),
                     values.size()));
  }
  Tensor tensor;
  tensor.dtype = DType::F32;
  tensor.shape = std::move(shape);
  tensor.data.resize(values.size() * 4);
  for (std::size_t i = 0; i < values.size(); ++i) {
    store_le(std::bit_cast<std::uint32_t>(values[i]), tensor.data.data() + 4 * i);
  }
  return tensor;
}

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  const std::uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f)
    return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN + payload
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) |
                              (mantissa << 13));  // rebias 15 -> 127
}

float bfloat16_to_float(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

std::uint16_t float_to_half(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) {  // quiet NaN, keeping the top of the payload
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
  }
  if (magnitude >= 0x477ff000u)
    return static_cast<std::uint16_t>(sign | 0x7c00u);  // >= 65520: ties to even -> inf
  std::uint32_t shift = 13;  // dropping 13 mantissa bits for a normal half
  std::uint32_t kept = 0;
  std::uint32_t full = 0;
  if (magnitude < 0x38800000u) {  // below 2^-14: a half subnormal, value = round(x * 2^24)
    const std::uint32_t exponent = magnitude >> 23;
    if (exponent < 102) return sign;  // below 2^-25 (float subnormals included): rounds to zero
    full = (magnitude & 0x7fffffu) | 0x800000u;
    shift = 126 - exponent;
    kept = full >> shift;
  } else {
    full = magnitude;
    kept = (magnitude >> 13) - (112u << 10);  // rebias 127 -> 15; mantissa carries into exponent
  }
  const std::uint32_t rest = full & ((1u << shift) - 1);
  const std::uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (kept & 1u))) ++kept;
  return static_cast<std::uint16_t>(sign | kept);
}

std::uint16_t float_to_bfloat16(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);  // quiet NaN
  // Adding 0x7fff plus the lowest kept bit rounds to nearest, ties to even;
  // a carry out of the largest finite value lands on inf, as it should.
  const std::uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(rounded >> 16);
}

}  // namespace tailsweep::safetensors
