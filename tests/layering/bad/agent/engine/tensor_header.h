// Fixture for the layering check (never compiled): an engine header with ATen types.
#include <ATen/core/Tensor.h>
