#pragma once
// Heterogeneous transformer encoders, as data: the architectures of
// EdgeTran's design space (Tuli and Jha, IEEE TMC 2024, after FlexiBERT 2.0),
// each layer with its own hidden size, heads, token-mixing operation and
// feed-forward stack, a projection wherever the hidden size changes
// (docs/design_space.md). Shared by the agent, which builds and times them,
// and the coordinator, which samples them and fits surrogates; no LibTorch.
//
// What we assumed where the paper leaves it open (docs/design_space.md):
// one operation per layer (FlexiBERT 2.0 allows one per head); every head's
// width is hidden / heads, so heads must divide hidden; the mixers' FLOPs
// are estimates (an FFT of n points as 5 n log2 n real operations).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tailsweep::design {

// How a layer mixes its tokens.
//   sa_sdp  scaled dot-product self-attention, softmax(Q K^T / sqrt(d)) V
//   sa_wma  weighted multiplicative attention, softmax(Q W K^T / sqrt(d)) V,
//           with a learned d x d matrix W per head
//   l_dft   FNet: the real part of the 2-D discrete Fourier transform over
//           tokens and hidden (no parameters)
//   l_dct   the same with a DCT-II (no parameters)
enum class Operation { sa_sdp, sa_wma, l_dft, l_dct };

std::string_view to_string(Operation operation);
// Throws InputError naming the known operations.
Operation parse_operation(std::string_view name);
inline constexpr Operation kOperations[] = {Operation::sa_sdp, Operation::sa_wma, Operation::l_dft,
                                            Operation::l_dct};

struct EncoderLayer {
  int64_t hidden = 256;
  int64_t heads =
      4;  // of an attention operation; a mixer ignores it but it must still divide hidden
  Operation operation = Operation::sa_sdp;
  std::vector<int64_t> feed_forward{1024};  // 1 to 3 Linear layers, then back to hidden

  bool operator==(const EncoderLayer&) const = default;
};

// What enters the first layer.
//   tokens   token ids (the BERT family, ProTran's case): an embedding table
//            of `vocabulary` rows, learned positions, sequence_length tokens
//   patches  an image cut into patches (the ViT family): a patch embedding,
//            CLS and learned positions; sequence_length is patches + 1
enum class InputKind { tokens, patches };

struct Architecture {
  InputKind input = InputKind::tokens;
  int64_t sequence_length = 128;  // tokens: as given; patches: (image / patch)^2 + 1
  int64_t vocabulary = 30'522;    // tokens only: BERT's WordPiece vocabulary
  int64_t image_size = 224;       // patches only
  int64_t patch_size = 16;        // patches only
  int64_t in_channels = 3;        // patches only
  std::vector<EncoderLayer> layers;

  bool operator==(const Architecture&) const = default;

  // Parameters: embeddings, every layer (its projection from the layer
  // before when the width changes, attention or nothing, two LayerNorms, the
  // feed-forward stack). No task head: these are timed with random weights.
  double parameter_count() const;
  // Multiply-accumulates x 2 of one forward pass at this batch; the mixers'
  // transforms as 5 n log2 n per FFT (an estimate: what the library runs
  // is its own business).
  double forward_flops(int64_t batch) const;
  // Throws InputError naming the first inconsistent field (path like
  // "layers[3].heads"), or a size past the limits in architecture.cpp.
  void validate() const;
};

// Strict: unknown fields, wrong types, inconsistent layers are InputErrors
// naming the field. Validated.
Architecture parse_architecture(const nlohmann::json& document);
nlohmann::json to_json(const Architecture& architecture);
// A stable id: "arch-" and the first 16 hex digits of the SHA-256 of the
// canonical JSON (keys sorted, every field written). Equal architectures
// have equal ids on every machine.
std::string architecture_id(const Architecture& architecture);

}  // namespace tailsweep::design
