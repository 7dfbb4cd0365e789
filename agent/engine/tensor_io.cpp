#include "agent/engine/tensor_io.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::agent {

at::Tensor to_aten_float(const safetensors::Tensor& tensor, const std::string& name) {
  std::vector<float> values;
  try {
    values = safetensors::to_float32(tensor, name);
  } catch (const safetensors::SafetensorsError& error) {
    throw InputError(error.what());
  }
  at::Tensor out = at::empty(tensor.shape, at::kFloat);
  std::copy(values.begin(), values.end(), out.data_ptr<float>());
  return out;
}

safetensors::Tensor from_aten_float(const at::Tensor& tensor) {
  const at::Tensor dense = tensor.to(at::kFloat).contiguous();
  return safetensors::from_float32(
      std::span<const float>(dense.data_ptr<float>(), static_cast<std::size_t>(dense.numel())),
      dense.sizes().vec());
}

safetensors::File read_safetensors(const std::filesystem::path& path) {
  try {
    return safetensors::read_file(path);
  } catch (const safetensors::SafetensorsError& error) {
    throw InputError(error.what());
  }
}

void write_safetensors(const std::filesystem::path& path, const safetensors::File& file) {
  try {
    safetensors::write_file(path, file);
  } catch (const safetensors::SafetensorsError& error) {
    throw InputError(error.what());
  }
}

at::Tensor read_named_tensor(const std::filesystem::path& path, const std::string& name) {
  const safetensors::File file = read_safetensors(path);
  const auto found = file.tensors.find(name);
  if (found == file.tensors.end()) {
    throw InputError(fmt::format("{}: no tensor named '{}'", path.string(), name));
  }
  return to_aten_float(found->second, fmt::format("{}: {}", path.string(), name));
}

void write_named_tensor(const std::filesystem::path& path, const std::string& name,
                        const at::Tensor& tensor) {
  safetensors::File file;
  file.tensors.emplace(name, from_aten_float(tensor));
  write_safetensors(path, file);
}

}  // namespace tailsweep::agent
