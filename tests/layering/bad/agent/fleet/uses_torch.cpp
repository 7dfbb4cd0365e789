// Fixture for the layering check (never compiled): LibTorch outside the engine.
#include <ATen/ATen.h>
