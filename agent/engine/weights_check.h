#pragma once
// Whether a weights file fits a model, for code that never runs it (a
// simulated device refuses bad weights like every other device). No
// LibTorch in this header.
#include <filesystem>

#include "common/model/model_config.h"

namespace tailsweep::agent {

// load_weights' checks (every tensor present with its shape, nothing else,
// a readable dtype); InputError naming the file and the tensor otherwise.
void check_weights_file(const VitConfig& config, const std::filesystem::path& path);

}  // namespace tailsweep::agent
