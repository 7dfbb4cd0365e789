#pragma once
// Conversions between our safetensors tensors and ATen float tensors.
#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>

#include "agent/data/safetensors.h"

namespace tailsweep::agent {

// Float32 copy of a stored tensor (F32/F16/BF16/F64); InputError otherwise.
at::Tensor to_aten_float(const safetensors::Tensor& tensor, const std::string& name);
safetensors::Tensor from_aten_float(const at::Tensor& tensor);

// Whole-file reads and writes, with format errors turned into InputError.
safetensors::File read_safetensors(const std::filesystem::path& path);
void write_safetensors(const std::filesystem::path& path, const safetensors::File& file);

// Reads one named float tensor from a safetensors file ("input" for infer).
at::Tensor read_named_tensor(const std::filesystem::path& path, const std::string& name);
void write_named_tensor(const std::filesystem::path& path, const std::string& name,
                        const at::Tensor& tensor);

}  // namespace tailsweep::agent
